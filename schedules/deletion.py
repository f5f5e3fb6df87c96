"""The schedules' part of deleting a workspace: their beat entries go with them (the rows cascade,
the PeriodicTasks would not)."""

from __future__ import annotations

from django_celery_beat.models import PeriodicTask

from schedules.models import Schedule
from studio.deletion import Cleanup, WorkspacePart
from studio.models import Workspace


def inventory(workspace: Workspace) -> dict[str, int]:
    return {"schedules": Schedule.objects.filter(workspace=workspace).count()}


def purge(workspace: Workspace) -> list[Cleanup]:
    PeriodicTask.objects.filter(pk__in=Schedule.objects.filter(workspace=workspace).values("periodic_task_id")).delete()
    Schedule.objects.filter(workspace=workspace).delete()
    return []


PART = WorkspacePart(name="schedules", inventory=inventory, purge=purge, order=5)
