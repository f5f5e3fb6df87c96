"""The task beat sends when a schedule is due (its PeriodicTask names it)."""

from __future__ import annotations

from celery import shared_task

from schedules import services


@shared_task(bind=True, acks_late=True, soft_time_limit=120, time_limit=180, ignore_result=True)
def fire_schedule(self, schedule_id: int) -> str:
    run = services.fire_schedule(schedule_id, task_id=self.request.id or "")
    if run is None:
        return "skipped"
    return run.job_name or f"refused: {run.error}"
