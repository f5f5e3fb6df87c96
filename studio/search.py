"""Search across a workspace's assets from the top bar. Each app registers what it can find in
its AppConfig.ready() (studio, the lowest layer, imports none of them); every searcher fetches
through `for_user`, so a result is never something the user could not open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

MIN_QUERY = 1
MAX_QUERY = 100


@dataclass(frozen=True)
class Hit:
    """One result: what it is called, where it lives, and a short line of context."""

    title: str
    url: str
    detail: str = ""


# (user, workspace, query, limit) -> hits, best first
Searcher = Callable[[object, object, str, int], list[Hit]]
SEARCHERS: dict[str, tuple[int, str, Searcher]] = {}


def register(key: str, label: str, order: int, searcher: Searcher) -> None:
    """Called from an app's AppConfig.ready(); groups are shown by `order`, smallest first."""
    SEARCHERS[key] = (order, label, searcher)


def matching(queryset: QuerySet, query: str, fields: tuple[str, ...] = ("name",)) -> QuerySet:
    """Rows whose `fields` contain `query` (case-insensitive), names that start with it first.
    Each queryset is already narrowed to one workspace, whose (workspace, name) index keeps it fast."""
    wanted = Q()
    for field in fields:
        wanted |= Q(**{f"{field}__icontains": query})
    prefix = Case(
        When(**{f"{fields[0]}__istartswith": query}, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return queryset.filter(wanted).annotate(_prefix=prefix).order_by("_prefix", fields[0])


def clean_query(raw: str) -> str:
    return " ".join(raw.split())[:MAX_QUERY]


def search(user, workspace, query: str, limit: int) -> list[tuple[str, str, list[Hit]]]:
    """(key, label, hits) for every kind of asset that has a hit."""
    query = clean_query(query)
    if len(query) < MIN_QUERY:
        return []
    groups = []
    for key, (_order, label, searcher) in sorted(SEARCHERS.items(), key=lambda item: item[1][0]):
        if hits := searcher(user, workspace, query, limit):
            groups.append((key, label, hits))
    return groups
