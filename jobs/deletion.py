"""The jobs app's part of deleting a workspace (studio.deletion): its jobs with their logs,
metrics and outputs, its experiments and its code snapshots (the files only when no other
workspace holds the same snapshot). A job still running is stopped by its own runner, which
notices that the row is gone."""

from __future__ import annotations

import shutil

from jobs import artifacts
from jobs.models import CodeSnapshot, Experiment, Job
from studio import logs
from studio.deletion import Cleanup, WorkspacePart
from studio.models import Workspace


def inventory(workspace: Workspace) -> dict[str, int]:
    jobs = Job.objects.filter(workspace=workspace)
    return {
        "jobs": jobs.count(),
        "running jobs (stopped)": jobs.active().count(),
        "experiments": Experiment.objects.filter(workspace=workspace).count(),
        "code snapshots": CodeSnapshot.objects.filter(workspace=workspace).count(),
    }


def purge(workspace: Workspace) -> list[Cleanup]:
    jobs = list(Job.objects.filter(workspace=workspace).only("pk"))
    snapshots = list(CodeSnapshot.objects.filter(workspace=workspace))
    shared = set(
        CodeSnapshot.objects.filter(hash__in=[s.hash for s in snapshots])
        .exclude(workspace=workspace)
        .values_list("hash", flat=True)
    )
    for job in jobs:
        logs.delete(job.log_prefix)
    # Jobs protect their experiment and code snapshot; without them the workspace cascade runs.
    Job.objects.filter(workspace=workspace).delete()
    cleanups: list[Cleanup] = [lambda job=job: artifacts.delete_artifacts(job) for job in jobs]
    cleanups += [
        lambda path=snapshot.path: shutil.rmtree(path, ignore_errors=True)
        for snapshot in snapshots
        if snapshot.hash not in shared
    ]
    return cleanups


PART = WorkspacePart(name="jobs", inventory=inventory, purge=purge, order=10)
