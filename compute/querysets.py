"""Querysets of compute targets and nodes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.querysets import WorkspaceScopedQuerySet


class ComputeTargetQuerySet(WorkspaceScopedQuerySet):
    """`ComputeTarget.objects.for_user(user, action)` is the only way pages and the API fetch targets."""

    def of_types(self, *types: str) -> ComputeTargetQuerySet:
        return self.filter(type__in=types)

    def on_queues(self, queues: Collection[str]) -> ComputeTargetQuerySet:
        return self.filter(queue_filter(queues))


def queue_filter(queues: Collection[str], via: str = "") -> models.Q:
    """The targets whose `queue_name` is one of `queues`, as a filter on targets (or, through
    `via`, such as "compute__", on what points at one): the SQL side of `ComputeTarget.queue_name`,
    `compute.local` for the local type, else `compute.<workspace>.<target>` (neither name can hold
    a dot)."""
    from compute.models import LOCAL_QUEUE, ComputeType  # here: compute.models imports this module

    where = models.Q(pk__in=[])
    for queue in queues:
        if queue == LOCAL_QUEUE:
            where |= models.Q(**{f"{via}type": ComputeType.LOCAL})
            continue
        prefix, _, rest = queue.partition(".")
        workspace, _, name = rest.partition(".")
        if prefix == "compute" and workspace and name and "." not in name:
            where |= models.Q(**{f"{via}workspace__name": workspace, f"{via}name": name}) & ~models.Q(
                **{f"{via}type": ComputeType.LOCAL}
            )
    return where


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
