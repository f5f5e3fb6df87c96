"""Which environments a workspace sees: its own, plus the curated ones (workspace is null)."""

from __future__ import annotations

from django.db import models

from studio.querysets import WorkspaceScopedQuerySet


class EnvironmentQuerySet(WorkspaceScopedQuerySet):
    def visible_in(self, workspace) -> EnvironmentQuerySet:
        return self.filter(models.Q(workspace=workspace) | models.Q(workspace__isnull=True))

    def for_user(self, user, action: str = "workspace.view") -> EnvironmentQuerySet:
        """Environments of the workspaces where `user` holds `action`; curated ones only for
        viewing (nobody may change them)."""
        own = super().for_user(user, action)
        if action != "workspace.view" or not user.is_authenticated:
            return own
        return own | self.filter(workspace__isnull=True)


class VersionQuerySet(models.QuerySet):
    def visible_in(self, workspace) -> VersionQuerySet:
        return self.filter(models.Q(environment__workspace=workspace) | models.Q(environment__workspace__isnull=True))

    def active(self) -> VersionQuerySet:
        return self.filter(archived=False)


class BuildQuerySet(models.QuerySet):
    def visible_in(self, workspace) -> BuildQuerySet:
        """Builds asked for in this workspace, and those of curated versions asked for nowhere."""
        return self.filter(models.Q(workspace=workspace) | models.Q(workspace__isnull=True))

    def reusable(self, spec_hash: str, backend: str) -> BuildQuerySet:
        """Successful builds of this spec on this backend, newest first (cache candidates)."""
        return self.filter(spec_hash=spec_hash, backend=backend, status="Succeeded").order_by("-finished_at", "-pk")
