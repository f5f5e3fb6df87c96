"""Mirrored traffic: a share of an endpoint's requests (`mirror_traffic: {green: 10}`) is also sent
to a shadow deployment, whose answer is recorded next to the live one and never returned.

The router keeps the pairs in memory and `flush` writes them in one insert per flush (with the
metrics), keeping the newest `STUDIO_MIRROR_KEEP` per endpoint. `comparison` is what the
Comparison tab and `GET …/online-endpoints/{name}/mirror-comparison/` show: how many answers
differ, and the latency of both side by side.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from endpoints import metrics
from endpoints.models import MirroredRequest, OnlineEndpoint

KEEP_BYTES = 4096
MAX_PENDING = 5000
SAMPLES = 20

_lock = threading.Lock()
_pending: list[MirroredRequest] = []


def _text(body: bytes) -> str:
    return body[:KEEP_BYTES].decode(errors="replace")


def _same(a: bytes, b: bytes) -> bool:
    """Equal answers: equal JSON documents (key order and spacing do not matter), else equal bytes."""
    if a == b:
        return True
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return False


def record(
    endpoint_id: int,
    live: str,
    shadow: str,
    request: bytes,
    live_answer: tuple[int, bytes, float],
    shadow_answer: tuple[int, bytes, float],
) -> None:
    """Keep one mirrored pair (in memory until the next flush)."""
    live_status, live_body, live_ms = live_answer
    shadow_status, shadow_body, shadow_ms = shadow_answer
    row = MirroredRequest(
        endpoint_id=endpoint_id,
        live=live,
        shadow=shadow,
        request=_text(request),
        live_status=live_status,
        live_body=_text(live_body),
        live_ms=live_ms,
        shadow_status=shadow_status,
        shadow_body=_text(shadow_body),
        shadow_ms=shadow_ms,
        differs=live_status != shadow_status or not _same(live_body, shadow_body),
    )
    with _lock:
        if len(_pending) < MAX_PENDING:  # a flush that cannot keep up drops pairs, never memory
            _pending.append(row)


def flush() -> int:
    with _lock:
        taken = list(_pending)
        _pending.clear()
    if not taken:
        return 0
    alive = set(OnlineEndpoint.objects.filter(pk__in={r.endpoint_id for r in taken}).values_list("pk", flat=True))
    rows = [r for r in taken if r.endpoint_id in alive]
    MirroredRequest.objects.bulk_create(rows)
    keep = settings.STUDIO_MIRROR_KEEP
    for endpoint_id in {r.endpoint_id for r in rows}:
        old = MirroredRequest.objects.filter(endpoint_id=endpoint_id).order_by("-at", "-pk")[keep : keep + 1]
        cutoff = list(old.values_list("pk", flat=True))
        if cutoff:
            MirroredRequest.objects.filter(endpoint_id=endpoint_id, pk__lte=cutoff[0]).delete()
    return len(rows)


def _latency(values: list[float]) -> dict[str, float | None]:
    values = sorted(values)
    if not values:
        return {"p50": None, "p95": None, "p99": None}

    def at(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 2)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99)}


def comparison(endpoint: OnlineEndpoint) -> dict[str, Any]:
    """Live vs shadow over the kept mirrored requests: counts, latency, the latest differences."""
    rows = MirroredRequest.objects.filter(endpoint=endpoint)
    counts = rows.aggregate(
        requests=Count("pk"),
        differing=Count("pk", filter=Q(differs=True)),
        shadow_errors=Count("pk", filter=Q(shadow_status__gte=500) | Q(shadow_status=0)),
        live_errors=Count("pk", filter=Q(live_status__gte=500)),
    )
    timings = list(rows.values_list("live_ms", "shadow_ms"))
    samples = [
        {
            "at": r.at,
            "live": r.live,
            "shadow": r.shadow,
            "request": r.request,
            "live_status": r.live_status,
            "live_body": r.live_body,
            "live_ms": round(r.live_ms, 2),
            "shadow_status": r.shadow_status,
            "shadow_body": r.shadow_body,
            "shadow_ms": round(r.shadow_ms, 2),
        }
        for r in rows.filter(differs=True)[:SAMPLES]
    ]
    return {
        "mirror_traffic": endpoint.mirror_traffic,
        **counts,
        "live_latency_ms": _latency([t[0] for t in timings]),
        "shadow_latency_ms": _latency([t[1] for t in timings]),
        "differences": samples,
    }


def flush_all() -> None:
    """Write both the metrics and the mirrored pairs this process holds."""
    metrics.flush()
    flush()
