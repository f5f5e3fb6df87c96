"""The last value of each metric for a page of runs, for run tables (the experiment page and the
experiment API). Per-run history and summaries live in jobs.tracking."""

from __future__ import annotations

from jobs.models import LatestMetric


def last_metric_values(jobs) -> dict[int, dict[str, float | None]]:
    """job pk -> {metric key: its last value (by step, then time)}, in one query."""
    values: dict[int, dict[str, float | None]] = {}
    rows = LatestMetric.objects.filter(job__in=[job.pk for job in jobs])
    for job_id, key, value in rows.values_list("job_id", "key", "value"):
        values.setdefault(job_id, {})[key] = value
    return values
