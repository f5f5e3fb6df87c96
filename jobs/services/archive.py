"""Archiving jobs (hidden from lists, kept whole) and restoring them, one job or many at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jobs.models import Job
from studio import activity
from studio.actor import Actor
from studio.errors import Conflict

# Archiving tidies the workspace's job list: whoever may submit jobs may archive and restore them.
ARCHIVE_ACTION = "jobs.submit"


@transaction.atomic
def do_archive_job(job: Job, *, actor: Actor) -> Job:
    """Hide a finished job from the lists (a filter still shows it); its logs, metrics and outputs
    stay. An unfinished job must be canceled first, so nothing runs unseen."""
    if not job.is_final:
        raise Conflict({"status": [f"Job {job.name} is {job.status}: cancel it before archiving it."]})
    if Job.objects.filter(pk=job.pk, archived_at__isnull=True).update(archived_at=timezone.now()):
        activity.record(job.workspace, actor, "job.archived", job.name)
    job.refresh_from_db()
    return job


@transaction.atomic
def do_restore_job(job: Job, *, actor: Actor) -> Job:
    """Bring an archived job back into the lists."""
    if Job.objects.filter(pk=job.pk, archived_at__isnull=False).update(archived_at=None):
        activity.record(job.workspace, actor, "job.restored", job.name)
    job.refresh_from_db()
    return job


@dataclass
class BulkResult:
    """What a bulk action did: the names it changed, and why each other job was left alone."""

    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def do_bulk(jobs: Iterable[Job], action: Callable[..., object], *, actor: Actor) -> BulkResult:
    """Apply one `do_*` job function to each job on its own (one transaction each), so one job that
    cannot change does not hold back the others; the caller has already checked permission."""
    result = BulkResult()
    for job in jobs:
        try:
            action(job, actor=actor)
        except ValidationError as exc:
            result.refused[job.name] = " ".join(exc.messages)
        else:
            result.done.append(job.name)
    return result
