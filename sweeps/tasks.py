"""The periodic sweep check (Celery beat): intermediate metrics, pruning, timeouts."""

from __future__ import annotations

from celery import shared_task

from sweeps import services


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180, ignore_result=True)
def check_sweeps() -> int:
    return services.check_sweeps()
