from __future__ import annotations

from celery import shared_task

from endpoints import placement


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660, ignore_result=True)
def reconcile_instances() -> dict[str, int]:
    """Place every deployment's instances on the nodes of its target (periodic, and right after a
    deployment changes); each node's keeper then starts what was assigned to it."""
    return placement.place_all()
