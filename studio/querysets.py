"""Workspace-aware querysets: the only way views and the API fetch workspace objects."""

from __future__ import annotations

from django.db import models


class WorkspaceQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "workspace.view") -> WorkspaceQuerySet:
        """Workspaces in which `user` holds `action`."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(memberships__user=user, memberships__role__permissions__action=action).distinct()


class WorkspaceScopedQuerySet(models.QuerySet):
    """For any model with a `workspace` foreign key."""

    def for_user(self, user, action: str = "workspace.view") -> WorkspaceScopedQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        from studio.models import Workspace

        return self.filter(workspace__in=Workspace.objects.for_user(user, action).values("pk"))
