"""Querysets of compute targets and nodes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.querysets import WorkspaceScopedQuerySet


class ComputeTargetQuerySet(WorkspaceScopedQuerySet):
    """`ComputeTarget.objects.for_user(user, action)` is the only way pages and the API fetch targets."""

    def of_types(self, *types: str) -> ComputeTargetQuerySet:
        return self.filter(type__in=types)


class NodeQuerySet(models.QuerySet):
    def live(self) -> NodeQuerySet:
        """Nodes whose process says it is up (they may still be silent; see `silent_since`)."""
        from compute.models import LIVE_NODE_STATES  # here: compute.models imports this module

        return self.filter(state__in=LIVE_NODE_STATES)

    def silent_since(self, cutoff) -> NodeQuerySet:
        return self.live().filter(last_heartbeat__lt=cutoff)

    def responsive(self) -> NodeQuerySet:
        """Live nodes that heart-beat within the unreachable threshold."""
        cutoff = timezone.now() - timedelta(seconds=settings.STUDIO_NODE_UNREACHABLE_SECONDS)
        return self.live().filter(last_heartbeat__gte=cutoff)

    def recent(self, hours: int = 24) -> NodeQuerySet:
        """Live nodes plus those that stopped or were lost in the last `hours`, for the node list."""
        cutoff = timezone.now() - timedelta(hours=hours)
        return self.filter(models.Q(stopped_at__isnull=True) | models.Q(stopped_at__gte=cutoff))
