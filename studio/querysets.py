"""Workspace-aware querysets: the only way views and the API fetch workspace objects."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Coalesce


class WorkspaceQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "workspace.view") -> WorkspaceQuerySet:
        """Workspaces in which `user` holds `action`."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(memberships__user=user, memberships__role__permissions__action=action).distinct()

    def with_member_count(self) -> WorkspaceQuerySet:
        """Annotate `member_count` with every member of each workspace. A subquery, because a
        Count over the joins `for_user` adds would count only the viewer's own membership."""
        from studio.models import Membership

        members = (
            Membership.objects.filter(workspace=models.OuterRef("pk"))
            .order_by()
            .values("workspace")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(member_count=Coalesce(models.Subquery(members), 0))


class WorkspaceScopedQuerySet(models.QuerySet):
    """For any model with a `workspace` foreign key."""

    def for_user(self, user, action: str = "workspace.view") -> WorkspaceScopedQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        from studio.models import Workspace

        return self.filter(workspace__in=Workspace.objects.for_user(user, action).values("pk"))
