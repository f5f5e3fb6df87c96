"""What the top-bar search finds among jobs and experiments (registered in JobsConfig.ready)."""

from __future__ import annotations

from jobs.models import Experiment, Job
from studio.search import Hit, matching


def jobs(user, workspace, query: str, limit: int) -> list[Hit]:
    rows = matching(Job.objects.for_user(user).filter(workspace=workspace), query, ("name", "display_name"))
    return [
        Hit(job.display_name or job.name, job.get_absolute_url(), f"{job.name} · {job.status}")
        for job in rows.select_related("workspace")[:limit]
    ]


def experiments(user, workspace, query: str, limit: int) -> list[Hit]:
    rows = matching(Experiment.objects.for_user(user).filter(workspace=workspace), query)
    return [Hit(e.name, e.get_absolute_url(), "experiment") for e in rows.select_related("workspace")[:limit]]
