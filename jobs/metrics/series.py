"""Metric series as charts draw them: long series downsampled on the server (LTTB), and a cursor
(the last metric row id seen) so a live chart fetches only the points logged since its last look.
Exact values stay in jobs.tracking (tables, the REST API, the CSV download)."""

from __future__ import annotations

from jobs.metrics.downsample import lttb
from jobs.models import Job, Metric

MAX_POINTS = 2000  # per metric and run: what one chart line draws at most
MAX_NEW_ROWS = 20000  # more new rows than this in one poll: the client reloads the downsampled series


def _rows(job: Job, after: int = 0, key: str | None = None, steps: tuple[int, int] | None = None):
    rows = Metric.objects.filter(job=job)
    if after:
        rows = rows.filter(pk__gt=after)
    if key:
        rows = rows.filter(key=key)
    if steps:
        rows = rows.filter(step__gte=steps[0], step__lte=steps[1])
    return rows


def chart_series(
    job: Job, max_points: int = MAX_POINTS, key: str | None = None, steps: tuple[int, int] | None = None
) -> dict:
    """{"cursor", "series": {key: {"points": [[step, value, timestamp], …], "total", "downsampled"}}}.
    `steps` narrows to a zoomed range, downsampled on its own (more detail the closer one looks).
    NaN (stored as null) cannot be drawn and is left out here; the table still counts it."""
    cursor = 0
    grouped: dict[str, list[tuple]] = {}
    rows = _rows(job, key=key, steps=steps).order_by("key", "step", "timestamp", "pk")
    for pk, k, step, value, ts in rows.values_list("pk", "key", "step", "value", "timestamp").iterator(2000):
        cursor = max(cursor, pk)
        if value is not None:
            grouped.setdefault(k, []).append((step, value, ts))
    series = {}
    for k, points in grouped.items():
        kept = lttb(points, max_points)
        series[k] = {"points": kept, "total": len(points), "downsampled": len(kept) < len(points)}
    return {"cursor": cursor, "series": series}


def new_points(job: Job, after: int) -> dict:
    """The points logged since cursor `after`: {"cursor", "series": {key: {"points": [...]}}}, or
    {"reset": True} when so many arrived that the client should reload the downsampled series."""
    fields = ("pk", "key", "step", "value", "timestamp")
    rows = list(_rows(job, after=after).order_by("pk").values_list(*fields)[: MAX_NEW_ROWS + 1])
    if len(rows) > MAX_NEW_ROWS:
        return {"reset": True, "cursor": after, "series": {}}
    series: dict[str, dict] = {}
    for _pk, k, step, value, ts in rows:
        if value is not None:
            series.setdefault(k, {"points": []})["points"].append((step, value, ts))
    for entry in series.values():
        entry["points"].sort()
    return {"cursor": rows[-1][0] if rows else after, "series": series}
