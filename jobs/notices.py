"""Telling a user that one of their jobs ended: the e-mail they opted into (sent by a Celery task
after the final status is committed) and the feed the in-page toast polls."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from jobs.models import FINAL_STATUSES, Job, NotificationPreference

MAX_FEED = 20
# A job's ended_at is stamped before its transaction commits, so a poll may not see it yet: each
# cursor reaches back this far and the page skips jobs it already announced.
OVERLAP_MS = 5000


def job_ended(job_id: int) -> None:
    """Called inside the transaction that set a job's final status: when its submitter wants
    e-mail, queue it for after the commit (never for a status that was rolled back)."""
    creator = Job.objects.filter(pk=job_id).values("created_by")
    wants = NotificationPreference.objects.filter(
        email_on_job_end=True, user__is_active=True, user__in=creator
    ).exists()
    if wants:
        from jobs.tasks import send_job_end_email

        transaction.on_commit(lambda: send_job_end_email.delay(job_id))


def send_end_email(job_id: int) -> bool:
    """The e-mail itself; False when there is nothing to send (job gone, not final, no address,
    preference turned off meanwhile)."""
    job = Job.objects.select_related("created_by", "workspace", "experiment").filter(pk=job_id).first()
    if job is None or job.status not in FINAL_STATUSES or job.created_by is None or not job.created_by.email:
        return False
    if not NotificationPreference.objects.filter(user=job.created_by, email_on_job_end=True).exists():
        return False
    title = job.display_name or job.name
    lines = [
        f"Your job {title} ({job.name}) in workspace {job.workspace.name} ended: {job.status}.",
        f"Experiment: {job.experiment.name}",
    ]
    if job.failure_reason:
        lines.append(f"Reason: {job.failure_reason}")
    lines += [
        "",
        f"{settings.STUDIO_PUBLIC_URL}{job.get_absolute_url()}",
        "",
        "Turn these e-mails off in Studio under Notifications.",
    ]
    send_mail(f"[Studio] {title}: {job.status}", "\n".join(lines), None, [job.created_by.email])
    return True


def next_cursor() -> int:
    return int(timezone.now().timestamp() * 1000) - OVERLAP_MS


def ended_since(user, cursor: int) -> list[dict]:
    """The user's own jobs (in workspaces they still see) that ended after `cursor` (ms)."""
    since = datetime.fromtimestamp(cursor / 1000, tz=UTC)
    rows = (
        Job.objects.for_user(user)
        .filter(created_by=user, ended_at__gt=since, status__in=FINAL_STATUSES)
        .select_related("workspace")
        .order_by("ended_at")[:MAX_FEED]
    )
    return [
        {
            "name": job.name,
            "display_name": job.display_name or job.name,
            "status": job.status,
            "workspace": job.workspace.name,
            "url": job.get_absolute_url(),
            "ended_at": job.ended_at.isoformat(),
        }
        for job in rows
    ]
