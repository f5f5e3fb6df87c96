"""What every job page shares: the job fetched through its workspace (404 elsewhere)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from jobs.models import Job
from studio.views.base import WorkspaceMixin


class JobMixin(WorkspaceMixin):
    section = "jobs"

    def get_job(self) -> Job:
        if not hasattr(self, "_job"):
            self._job = get_object_or_404(
                Job.objects.select_related(
                    "experiment", "code", "created_by", "canceled_by", "environment_version__environment", "compute"
                ),
                workspace=self.workspace,
                name=self.kwargs["name"],
            )
        return self._job
