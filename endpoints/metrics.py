"""Metrics per deployment: requests, errors and a latency histogram per interval.

The router adds each request to an in-memory counter of its process (`record`: a dict update and
a bisect, no I/O); `flush` writes one row per deployment per interval, adding to what other
processes wrote (`DeploymentMetrics`). p50/p95/p99 are read from the merged histograms, to the
precision of a bucket (each 20% wider than the last).
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from endpoints.models import DeploymentMetrics, OnlineDeployment

# Upper bounds of the latency buckets, 0.5 ms to ~2 min; a last bucket catches the rest.
BOUNDS_MS: list[float] = [round(0.5 * 1.2**i, 3) for i in range(70)]
RETENTION = timedelta(days=7)

_lock = threading.Lock()
# (deployment id, interval start as epoch seconds) -> [requests, errors, histogram]
_pending: dict[tuple[int, int], list[Any]] = {}
_last_flush = time.monotonic()


def interval() -> int:
    return settings.STUDIO_ENDPOINT_METRICS_SECONDS


def record(deployment_id: int, ms: float, status: int) -> None:
    """Count one request of a deployment (cheap: called on every scoring request)."""
    step = interval()
    key = (deployment_id, int(time.time()) // step * step)
    slot = bisect.bisect_left(BOUNDS_MS, ms)
    with _lock:
        agg = _pending.get(key)
        if agg is None:
            agg = _pending[key] = [0, 0, [0] * (len(BOUNDS_MS) + 1)]
        agg[0] += 1
        agg[1] += status >= 500
        agg[2][slot] += 1


def due() -> bool:
    return bool(_pending) and time.monotonic() - _last_flush >= interval()


def flush() -> int:
    """Write what this process counted since the last flush; returns the rows touched."""
    global _last_flush
    with _lock:
        taken = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    if not taken:
        return 0
    alive = set(OnlineDeployment.objects.filter(pk__in={d for d, _ in taken}).values_list("pk", flat=True))
    touched = 0
    for (deployment_id, start), (requests, errors, histogram) in sorted(taken.items()):
        if deployment_id not in alive:
            continue  # deleted meanwhile
        at = datetime.fromtimestamp(start, tz=UTC)
        with transaction.atomic():
            row, _ = DeploymentMetrics.objects.select_for_update().get_or_create(deployment_id=deployment_id, at=at)
            row.requests += requests
            row.errors += errors
            row.latency = merge(row.latency, histogram)
            row.save()
        touched += 1
    DeploymentMetrics.objects.filter(at__lt=timezone.now() - RETENTION).delete()
    return touched


def merge(a: list[int], b: list[int]) -> list[int]:
    size = max(len(a), len(b))
    return [(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(size)]


def percentile(histogram: list[int], q: float) -> float | None:
    """The upper bound of the bucket holding the q-quantile (ms), None without requests."""
    total = sum(histogram)
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for i, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return BOUNDS_MS[i] if i < len(BOUNDS_MS) else BOUNDS_MS[-1]
    return BOUNDS_MS[-1]


def _summary(requests: int, errors: int, histogram: list[int], seconds: float) -> dict[str, Any]:
    return {
        "requests": requests,
        "errors": errors,
        "requests_per_second": round(requests / seconds, 3) if seconds else 0.0,
        "latency_ms": {name: percentile(histogram, q) for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
    }


def series(deployment: OnlineDeployment, minutes: int = 60) -> dict[str, Any]:
    """The deployment's intervals of the last `minutes` (only those with requests), and the totals."""
    step = interval()
    since = timezone.now() - timedelta(minutes=minutes)
    points = []
    total_requests = total_errors = 0
    total_histogram: list[int] = []
    for row in DeploymentMetrics.objects.filter(deployment=deployment, at__gte=since).order_by("at"):
        points.append({"at": row.at, **_summary(row.requests, row.errors, row.latency, step)})
        total_requests += row.requests
        total_errors += row.errors
        total_histogram = merge(total_histogram, row.latency)
    return {
        "deployment": deployment.name,
        "interval_seconds": step,
        "minutes": minutes,
        "points": points,
        "total": _summary(total_requests, total_errors, total_histogram, minutes * 60),
    }
