from __future__ import annotations

from celery import shared_task

from endpoints import instances


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660, ignore_result=True)
def reconcile_instances() -> dict[str, int]:
    return instances.reconcile()
