"""Querysets of the jobs app: the workspace-aware `for_user` (studio.querysets) plus the job
selections that lists, services and the runner share."""

from __future__ import annotations

from studio.querysets import WorkspaceScopedQuerySet


class ExperimentQuerySet(WorkspaceScopedQuerySet):
    """Experiments: only the workspace scoping so far."""


class JobQuerySet(WorkspaceScopedQuerySet):
    """Jobs. The status sets live beside `JobStatus` (jobs.models.job), imported when called
    because that module builds its manager from this class."""

    def top_level(self) -> JobQuerySet:
        """Jobs that are not the child of another (a sweep's trials are folded under the sweep)."""
        return self.filter(parent__isnull=True)

    def unarchived(self) -> JobQuerySet:
        return self.filter(archived_at__isnull=True)

    def archived(self) -> JobQuerySet:
        return self.filter(archived_at__isnull=False)

    def active(self) -> JobQuerySet:
        """Preparing, Running or Finalizing: a node holds them."""
        from jobs.models.job import ACTIVE_STATUSES

        return self.filter(status__in=ACTIVE_STATUSES)

    def unfinished(self) -> JobQuerySet:
        """Not yet in a final state (NotStarted and Queued included)."""
        from jobs.models.job import UNFINISHED_STATUSES

        return self.filter(status__in=UNFINISHED_STATUSES)
