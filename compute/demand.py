"""Demand on compute targets: how many jobs wait for and run on each.

The only place the compute app reads the jobs app's tables. It looks the Job model up lazily and
answers zeros while jobs are not installed (or not yet migrated to know their compute), so the
compute pages, the autoscaler and the tests work before and after the jobs app lands.
Jobs are matched to a target by a `compute` foreign key when the model has one, else by
(`workspace`, `compute_name`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Q

# Job statuses (jobs.models.JobStatus values), written out so this module imports nothing of jobs.
WAITING = ("NotStarted", "Queued")
BUSY = ("Preparing", "Running", "Finalizing")
UNFINISHED = WAITING + BUSY


@dataclass(frozen=True)
class JobCounts:
    queued: int = 0
    running: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.running


def job_model():
    """jobs.Job, or None while the jobs app is absent or has no notion of compute."""
    if not apps.is_installed("jobs"):
        return None
    try:
        model = apps.get_model("jobs", "Job")
    except LookupError:
        return None
    if _has_field(model, "compute") or (_has_field(model, "compute_name") and _has_field(model, "workspace")):
        return model
    return None


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def counts_for(targets: Iterable) -> dict[int, JobCounts]:
    """target pk -> JobCounts, in one query for all `targets`."""
    targets = list(targets)
    result = {t.pk: JobCounts() for t in targets}
    model = job_model()
    if model is None or not targets:
        return result
    tallies: dict[int, dict[str, int]] = {t.pk: {"queued": 0, "running": 0} for t in targets}
    if _has_field(model, "compute"):
        rows = (
            model.objects.filter(compute__in=[t.pk for t in targets], status__in=UNFINISHED)
            .values("compute_id", "status")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            _add(tallies[row["compute_id"]], row["status"], row["n"])
    else:
        by_key = {(t.workspace_id, t.name): t.pk for t in targets}
        match = Q()
        for workspace_id, name in by_key:
            match |= Q(workspace_id=workspace_id, compute_name=name)
        rows = (
            model.objects.filter(match, status__in=UNFINISHED)
            .values("workspace_id", "compute_name", "status")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            pk = by_key.get((row["workspace_id"], row["compute_name"]))
            if pk is not None:
                _add(tallies[pk], row["status"], row["n"])
    return {pk: JobCounts(**tally) for pk, tally in tallies.items()}


def _add(tally: dict[str, int], status: str, n: int) -> None:
    tally["queued" if status in WAITING else "running"] += n


def counts(target) -> JobCounts:
    return counts_for([target])[target.pk]
