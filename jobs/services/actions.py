"""Cancelling, deleting, and finishing jobs whose node was lost."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs import artifacts, children, integrations
from jobs.models import ACTIVE_STATUSES, FailureKind, Job, JobStatus, JobType
from jobs.runner.lifecycle import advance, note
from studio import activity, logs
from studio.actor import Actor
from studio.errors import Conflict


def do_cancel_job(job: Job, *, actor: Actor) -> Job:
    """Cancel a job. Not yet started (Queued, Preparing): it is Canceled at once and its node will
    not run it. Running or Finalizing: the request is recorded and the node's watcher stops the
    process tree or container within a second or two, then marks it Canceled. A parent (sweep ...)
    is canceled by its type's handler, which cancels its children."""
    handler = children.handler_for(job.type) if job.type != JobType.COMMAND else None
    if handler is not None and handler.cancel is not None:
        return handler.cancel(job, actor=actor)
    who = actor.get_username() if actor is not None and actor.is_authenticated else "someone"
    reason = f"Canceled by {who}."
    user = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        if advance(
            job.pk,
            (JobStatus.NOT_STARTED, JobStatus.QUEUED, JobStatus.PREPARING),
            JobStatus.CANCELED,
            reason,
            failure_kind=FailureKind.CANCELED,
            failure_reason=reason,
            canceled_by=user,
            cancel_requested_at=timezone.now(),
        ):
            activity.record(job.workspace, actor, "job.canceled", job.name)
        else:
            requested = Job.objects.filter(
                pk=job.pk, status__in=ACTIVE_STATUSES, cancel_requested_at__isnull=True
            ).update(cancel_requested_at=timezone.now(), canceled_by=user)
            if requested:
                note(job.pk, f"Cancel requested by {who}")
                activity.record(job.workspace, actor, "job.canceled", job.name)
            elif not Job.objects.active().filter(pk=job.pk).exists():
                job.refresh_from_db()
                raise Conflict({"status": [f"Job {job.name} is already {job.status}; there is nothing to cancel."]})
    job.refresh_from_db()
    return job


def do_delete_job(job: Job, *, actor: Actor) -> None:
    """Delete a finished job with its logs, metrics and outputs."""
    if job.status not in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED):
        raise Conflict({"status": [f"Job {job.name} is {job.status}: cancel it before deleting it."]})
    with transaction.atomic():
        workspace, name, prefix = job.workspace, job.name, job.log_prefix
        activity.record(workspace, actor, "job.deleted", name, experiment=job.experiment.name)
        job.delete()
        logs.delete(prefix)
    artifacts.delete_artifacts(job)


def _lose(job_id: int, why: str) -> bool:
    """Fail (or re-queue, when retries are left) one job whose node is gone."""
    row = Job.objects.filter(pk=job_id).values("status", "attempt", "max_retries", "cancel_requested_at").first()
    if row is None or row["status"] not in ACTIVE_STATUSES:
        return False
    if row["cancel_requested_at"]:
        return advance(
            job_id,
            ACTIVE_STATUSES,
            JobStatus.CANCELED,
            f"Canceled ({why})",
            failure_kind=FailureKind.CANCELED,
            failure_reason=f"Canceled; {why}.",
        )
    if row["attempt"] < row["max_retries"]:
        moved = advance(
            job_id,
            row["status"],
            JobStatus.QUEUED,
            f"Re-queued after {why} (attempt {row['attempt'] + 2})",
            attempt=row["attempt"] + 1,
            node="",
            heartbeat_at=None,
            wait_reason=f"re-queued after {why}",
        )
        if moved:
            from jobs.services.submit import enqueue

            enqueue(Job.objects.select_related("compute", "workspace").get(pk=job_id))
        return moved
    reason = f"Node lost: {why}. The job was stopped; its logs are kept up to that moment."
    return advance(
        job_id, row["status"], JobStatus.FAILED, reason, failure_kind=FailureKind.NODE_LOST, failure_reason=reason
    )


@transaction.atomic
def do_refuse_claimed_job(job: Job) -> bool:
    """A node just claimed `job` (Preparing); if it may not run there now (integrations.run_refusal:
    its compute instance was reassigned since submission), fail it with the reason and an activity
    entry, and say True so the node does not run it."""
    reason = integrations.run_refusal(job)
    if not reason:
        return False
    kind = FailureKind.PREPARATION
    moved = advance(job.pk, JobStatus.PREPARING, JobStatus.FAILED, reason, failure_kind=kind, failure_reason=reason)
    if moved:
        activity.record(job.workspace, None, "job.refused", job.name, compute=job.compute_name, reason=reason)
    return True


def do_fail_lost_jobs(worker_name: str, why: str = "") -> int:
    """The compute reaper lost `worker_name`: fail (or re-queue) the jobs it was running."""
    why = why or f"node {worker_name} stopped heart-beating"
    count = 0
    for job_id in Job.objects.active().filter(node=worker_name).values_list("pk", flat=True):
        with transaction.atomic():
            count += _lose(job_id, why)
    return count


def reap_stalled_jobs() -> int:
    """Jobs whose runner stopped heart-beating (its worker was killed) or whose node the compute
    reaper marked Unreachable: failed with "node lost", never left Running."""
    cutoff = timezone.now() - timedelta(seconds=settings.STUDIO_JOB_LOST_AFTER_SECONDS)
    lost_nodes = integrations.lost_node_names()
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    if lost_nodes:
        stale |= Q(node__in=lost_nodes)
    count = 0
    # Runs started through the MLflow API have no runner to heart-beat; their script ends them.
    for job_id, node in (
        Job.objects.active().filter(stale, type=JobType.COMMAND).exclude(source="mlflow").values_list("pk", "node")
    ):
        why = f"node {node or '?'} stopped heart-beating" if node else "its runner stopped heart-beating"
        with transaction.atomic():
            count += _lose(job_id, why)
    return count
