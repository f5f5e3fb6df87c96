"""The periodic pipeline check (Celery beat): pipelines whose step ended while no one heard."""

from __future__ import annotations

from celery import shared_task

from pipelines.services import pipelines


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180, ignore_result=True)
def check_pipelines() -> int:
    return pipelines.check_pipelines()
