"""Celery tasks of the compute app: the dispatch probe (runs on a target's nodes) and the
periodic reaper and autoscaler (run on the default "studio" queue under celery beat)."""

from __future__ import annotations

import time

from celery import shared_task
from django.utils import timezone

from compute import scaling, services
from compute.models import DispatchProbe


@shared_task(bind=True, acks_late=True, ignore_result=True, soft_time_limit=30, time_limit=60)
def probe(self, probe_id: int, sent_at: float, hold_seconds: float = 0) -> None:
    """A no-op job: record which node started it and how long after it was sent. `hold_seconds`
    (at most 20) keeps the node busy that long, to watch a drain let a running job finish."""
    started = time.time()
    DispatchProbe.objects.filter(pk=probe_id, started_at__isnull=True).update(
        started_at=timezone.now(),
        latency_ms=max(0.0, (started - sent_at) * 1000),
        worker_name=(self.request.hostname or "")[:200],
    )
    if hold_seconds:
        time.sleep(min(float(hold_seconds), 20.0))


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=120)
def reap_nodes() -> int:
    """Mark silent nodes Unreachable (sending compute.signals.node_lost) and settle targets."""
    return len(services.reap_nodes())


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=360)
def autoscale() -> int:
    """Recompute desired node counts; call the scaler hook where they changed."""
    return len(scaling.autoscale())
