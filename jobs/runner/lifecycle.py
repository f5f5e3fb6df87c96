"""Status moves of a job, each one conditional (an atomic claim), with its timeline event."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from jobs import children, notices
from jobs.models import FINAL_STATUSES, UNFINISHED_STATUSES, FailureKind, Job, JobEvent, JobStatus
from studio.errors import Conflict

PHASE_FIELD = {
    JobStatus.QUEUED: "queued_at",
    JobStatus.PREPARING: "started_at",
    JobStatus.RUNNING: "running_at",
    JobStatus.FINALIZING: "finalizing_at",
    JobStatus.COMPLETED: "ended_at",
    JobStatus.FAILED: "ended_at",
    JobStatus.CANCELED: "ended_at",
}


def note(job_id: int, message: str, *, kind: str = JobEvent.Kind.INFO, status: str = "") -> None:
    """Add an entry to a job's timeline."""
    JobEvent.objects.create(job_id=job_id, kind=kind, status=status, message=message[:1000])


def advance(job_id: int, from_statuses, to: str, message: str = "", **fields) -> bool:
    """Move a job from one of `from_statuses` to `to`; False (and nothing written) when it was no
    longer in one of them, e.g. canceled or reaped meanwhile. Sets the phase timestamp."""
    if isinstance(from_statuses, str):
        from_statuses = (from_statuses,)
    now = timezone.now()
    values = {"status": to, PHASE_FIELD[to]: now, **fields}
    if to != JobStatus.QUEUED:
        values.setdefault("wait_reason", "")
    with transaction.atomic():
        moved = Job.objects.filter(pk=job_id, status__in=from_statuses).update(**values)
        if moved:
            JobEvent.objects.create(
                job_id=job_id, kind=JobEvent.Kind.STATUS, status=to, message=message[:1000], created_at=now
            )
            if to in FINAL_STATUSES:
                _tell_parent(job_id)
                notices.job_ended(job_id)
    return bool(moved)


def cancel_parent(job: Job, *, actor, noun: str = "Job") -> str:
    """Mark a parent job (sweep, pipeline, batch scoring) canceled by `actor`, before its handler
    cancels the children; the reason it recorded. 409 when the job has already ended."""
    user = actor if actor is not None and actor.is_authenticated else None
    reason = f"Canceled by {user.get_username() if user else 'someone'}."
    if not advance(
        job.pk,
        UNFINISHED_STATUSES,
        JobStatus.CANCELED,
        reason,
        failure_kind=FailureKind.CANCELED,
        failure_reason=reason,
        canceled_by=user,
        cancel_requested_at=timezone.now(),
    ):
        job.refresh_from_db()
        raise Conflict({"status": [f"{noun} {job.name} is already {job.status}; there is nothing to cancel."]})
    return reason


def set_wait(job_id: int, reason: str) -> None:
    """Say why a job waits (shown on its page and in its timeline)."""
    Job.objects.filter(pk=job_id).update(wait_reason=reason[:500])
    note(job_id, reason, kind=JobEvent.Kind.WAIT)


def _tell_parent(job_id: int) -> None:
    """A child just ended: its parent's type handler advances the parent once this commits."""
    row = Job.objects.filter(pk=job_id, parent__isnull=False).values_list("parent_id", "parent__type").first()
    if row is not None:
        children.child_ended_on_commit(row[0], row[1], job_id)
