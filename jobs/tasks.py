"""Celery tasks of the jobs app. They take primary keys only and call the runner or services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

HARD_LIMIT = settings.STUDIO_JOB_MAX_SECONDS + 600


@shared_task(bind=True, acks_late=True, soft_time_limit=None, time_limit=HARD_LIMIT, ignore_result=True)
def run_job(self, job_id: int) -> str | None:
    """Run one job on this node. Idempotent: the atomic claim makes a redelivered message (after a
    worker died) a no-op; the job itself is then failed by the reaper as "node lost"."""
    from jobs.runner import execute_job

    return execute_job(job_id, node=self.request.hostname or "")


@shared_task(acks_late=True, soft_time_limit=60, time_limit=120, ignore_result=True)
def reap_stalled_jobs() -> int:
    from jobs import services

    return services.reap_stalled_jobs()


@shared_task(
    acks_late=True,
    soft_time_limit=30,
    time_limit=60,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=3,
)
def send_job_end_email(job_id: int) -> bool:
    """E-mail a job's submitter that it ended (they opted in); retried only when the mail server
    cannot be reached."""
    from jobs import notices

    return notices.send_end_email(job_id)
