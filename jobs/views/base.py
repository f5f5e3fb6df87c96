"""What every job page shares: the job fetched through its workspace (404 elsewhere)."""

from __future__ import annotations

from jobs.models import Job
from studio.views.base import WorkspaceMixin


class JobMixin(WorkspaceMixin):
    section = "jobs"

    queryset = Job.objects.select_related(
        "experiment", "code", "created_by", "canceled_by", "environment_version__environment", "compute"
    )
