"""Querysets of the datastores app: the workspace-aware `for_user` (studio.querysets) plus the
selections its services repeat."""

from __future__ import annotations

from studio.querysets import WorkspaceScopedQuerySet
from studio.versioning import VersionQuerySet


class DatastoreQuerySet(WorkspaceScopedQuerySet):
    def defaults(self) -> DatastoreQuerySet:
        """The default datastore of each workspace in the queryset (one at most per workspace)."""
        return self.filter(is_default=True)


class DataVersionQuerySet(VersionQuerySet):
    def of_asset(self, workspace, name: str) -> DataVersionQuerySet:
        """Every version of the data asset `name` in `workspace`, with what reading them needs."""
        return self.filter(workspace=workspace, asset__name=name).select_related("asset", "datastore")
