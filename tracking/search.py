"""search_runs: MLflow's filter and order_by grammar (parsed by MLflow's own SearchUtils),
translated into one SQL query over jobs, the latest-metrics table, params and tags."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from jobs.models import JobStatus, LatestMetric, Param, RunTag
from tracking.errors import MlflowError

try:
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils
except ImportError as exc:  # pragma: no cover - mlflow-skinny is a runtime requirement
    raise ImportError("The MLflow API needs mlflow-skinny (requirements.txt).") from exc

# MLflow run status -> the job statuses it stands for.
MLFLOW_STATUSES = {
    "SCHEDULED": [JobStatus.NOT_STARTED, JobStatus.QUEUED, JobStatus.PREPARING],
    "RUNNING": [JobStatus.RUNNING, JobStatus.FINALIZING],
    "FINISHED": [JobStatus.COMPLETED],
    "FAILED": [JobStatus.FAILED],
    "KILLED": [JobStatus.CANCELED],
}
RUN_STATUS = {job: run for run, jobs in MLFLOW_STATUSES.items() for job in jobs}


def _mlflow(call, *args):
    try:
        return call(*args)
    except MlflowException as exc:
        raise MlflowError(exc.message, exc.error_code) from None


def _like_regex(pattern: str) -> str:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return "^" + "".join(out) + "$"


def _string_q(field: str, comparator: str, value) -> Q:
    if comparator == "=":
        return Q(**{field: value})
    if comparator == "!=":
        return ~Q(**{field: value})
    if comparator == "LIKE":
        return Q(**{f"{field}__regex": _like_regex(value)})
    if comparator == "ILIKE":
        return Q(**{f"{field}__iregex": _like_regex(value)})
    if comparator == "IN":
        return Q(**{f"{field}__in": list(value)})
    if comparator == "NOT IN":
        return ~Q(**{f"{field}__in": list(value)})
    raise MlflowError(f"Invalid comparator '{comparator}'.")


NUMERIC = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "exact"}


def _number(value, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MlflowError(f"Expected a numeric value for {what}, got {value!r}.") from None


def _annotate(runs: QuerySet) -> QuerySet:
    return runs.annotate(
        _start=Coalesce("started_at", "created_at"),
        _run_name=Coalesce(NullIf("display_name", Value("")), "name", output_field=CharField()),
    )


def _status_q(comparator: str, value) -> Q:
    values = value if isinstance(value, list | tuple) else [value]
    if comparator in ("IN", "NOT IN", "=", "!="):
        matched = [s for s in MLFLOW_STATUSES if s in values]
    else:
        regex = re.compile(_like_regex(value), re.IGNORECASE if comparator == "ILIKE" else 0)
        matched = [s for s in MLFLOW_STATUSES if regex.match(s)]
    q = Q(status__in=[j for s in matched for j in MLFLOW_STATUSES[s]])
    return ~q if comparator in ("!=", "NOT IN") else q


CHECKS = {
    "metric": SearchUtils.is_metric,
    "parameter": SearchUtils.is_param,
    "tag": SearchUtils.is_tag,
}


def _clause(item: dict) -> Q:
    kind, key, comparator, value = item["type"], item["key"], item["comparator"], item["value"]
    # MLflow's own comparator checks (and its messages) for each kind of key.
    if kind in CHECKS:
        _mlflow(CHECKS[kind], kind, comparator)
    elif kind == "attribute":
        _mlflow(SearchUtils.is_attribute, kind, SearchUtils.translate_key_alias(key), comparator)
    run = OuterRef("pk")
    if kind == "metric":
        rows = LatestMetric.objects.filter(job=run, key=key)
        number = _number(value, f"metric {key}")
        rows = (
            rows.exclude(value=number)
            if comparator == "!="
            else rows.filter(**{f"value__{NUMERIC[comparator]}": number})
        )
        return Q(Exists(rows))
    if kind in ("parameter", "tag"):
        if kind == "tag" and key == "mlflow.runName":
            return _attribute("run_name", comparator, value)
        model = Param if kind == "parameter" else RunTag
        rows = model.objects.filter(job=run, key=key)
        if comparator == "IS NULL":
            return ~Q(Exists(rows))
        if comparator == "IS NOT NULL":
            return Q(Exists(rows))
        return Q(Exists(rows.filter(_string_q("value", comparator, value))))
    if kind == "attribute":
        return _attribute(SearchUtils.translate_key_alias(key), comparator, value)
    raise MlflowError(f"Searching runs by {kind} is not supported by Studio.")


def _attribute(key: str, comparator: str, value) -> Q:
    if key in ("start_time", "end_time"):
        field = "_start" if key == "start_time" else "ended_at"
        moment = datetime.fromtimestamp(_number(value, key) / 1000, tz=UTC)
        if comparator == "!=":
            return ~Q(**{field: moment})
        return Q(**{f"{field}__{NUMERIC[comparator]}": moment})
    if key == "status":
        return _status_q(comparator, value)
    fields = {"run_id": "name", "run_name": "_run_name", "user_id": "created_by__username"}
    if key not in fields:
        raise MlflowError(f"Searching runs by attribute '{key}' is not supported by Studio.")
    return _string_q(fields[key], comparator, value)


def _order(runs: QuerySet, order_by: list[str]) -> QuerySet:
    ordering = []
    for i, clause in enumerate(order_by or []):
        kind, key, ascending = _mlflow(SearchUtils.parse_order_by_for_search_runs, clause)
        key = SearchUtils.translate_key_alias(key)
        if kind == "attribute":
            field = {
                "start_time": "_start",
                "end_time": "ended_at",
                "run_name": "_run_name",
                "run_id": "name",
                "status": "status",
                "user_id": "created_by__username",
                "artifact_uri": "name",
            }.get(key)
            if field is None:
                raise MlflowError(f"Ordering runs by '{key}' is not supported.")
        else:
            model = {"metric": LatestMetric, "parameter": Param, "tag": RunTag}[kind]
            field = f"_order{i}"
            value = model.objects.filter(job=OuterRef("pk"), key=key).values("value")[:1]
            runs = runs.annotate(**{field: Subquery(value)})
        expression = F(field)
        ordering.append(expression.asc(nulls_last=True) if ascending else expression.desc(nulls_last=True))
    # MLflow's tie-breakers: newest first, then run id.
    return runs.order_by(*ordering, F("_start").desc(), "name")


def search(runs: QuerySet, filter_string: str, order_by: list[str], max_results: int, page_token: str):
    """(the page of runs, the next page token or "")."""
    clauses = _mlflow(SearchUtils.parse_search_filter, filter_string or "")
    runs = _annotate(runs)
    for item in clauses:
        runs = runs.filter(_clause(item))
    runs = _order(runs, order_by)
    offset = _mlflow(SearchUtils.parse_start_offset_from_page_token, page_token or None)
    page = list(runs[offset : offset + max_results + 1])
    token = ""
    if len(page) > max_results:
        page = page[:max_results]
        token = SearchUtils.create_page_token(offset + max_results).decode()
    return page, token
