"""Param, metric and tag columns of run tables (the experiment page and the jobs list): which keys
exist, each row's values in one query per kind, and server-side sorting by any of them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, OuterRef, QuerySet, Subquery

from jobs.models import LatestMetric, Param

MAX_KEYS = 30
SORT_PREFIXES = {"metric:": LatestMetric, "param:": Param}


@dataclass(frozen=True)
class Column:
    """One param or metric column: `id` is what the chooser remembers and `?sort=` takes."""

    kind: str  # "metric" or "param"
    key: str
    visible: bool  # shown until the user chooses otherwise
    next_sort: str
    arrow: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.key}"


def keys_of(jobs: QuerySet, model) -> list[str]:
    """The distinct keys the runs of `jobs` logged (a cap keeps the chooser usable)."""
    rows = model.objects.filter(job__in=jobs.values("pk")).order_by("key").values_list("key", flat=True).distinct()
    return list(rows[:MAX_KEYS])


def columns(jobs: QuerySet, current_sort: str, *, metrics_shown: int, params_shown: int) -> list[Column]:
    out = []
    for kind, model, shown in (("param", Param, params_shown), ("metric", LatestMetric, metrics_shown)):
        for i, key in enumerate(keys_of(jobs, model)):
            ident = f"{kind}:{key}"
            arrow = "↑" if current_sort == ident else "↓" if current_sort == "-" + ident else ""
            next_sort = "-" + ident if current_sort == ident else ident
            out.append(Column(kind, key, i < shown, next_sort, arrow))
    return out


def param_values(jobs) -> dict[int, dict[str, str]]:
    """job pk -> {param key: value}, in one query."""
    values: dict[int, dict[str, str]] = {}
    for job_id, key, value in Param.objects.filter(job__in=[j.pk for j in jobs]).values_list("job_id", "key", "value"):
        values.setdefault(job_id, {})[key] = value
    return values


def sorted_by_column(queryset: QuerySet, sort: str) -> QuerySet | None:
    """`metric:<key>` / `param:<key>` ascending, with a leading `-` descending; runs without the
    key last either way. None when `sort` names no column."""
    descending = sort.startswith("-")
    ident = sort.removeprefix("-")
    for prefix, model in SORT_PREFIXES.items():
        if ident.startswith(prefix) and len(ident) > len(prefix):
            key = ident[len(prefix) :]
            value = Subquery(model.objects.filter(job=OuterRef("pk"), key=key).values("value")[:1])
            order = F("_column").desc(nulls_last=True) if descending else F("_column").asc(nulls_last=True)
            return queryset.annotate(_column=value).order_by(order, "-created_at", "-id")
    return None
