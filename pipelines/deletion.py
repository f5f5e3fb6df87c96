"""The pipelines app's part of deleting a workspace: its components (their versions protect code
snapshots, so they go before the jobs app removes those). Pipelines and steps go with their jobs."""

from __future__ import annotations

from pipelines.models import Component, ComponentVersion
from studio.deletion import Cleanup, WorkspacePart
from studio.models import Workspace


def inventory(workspace: Workspace) -> dict[str, int]:
    return {"components": Component.objects.filter(workspace=workspace).count()}


def purge(workspace: Workspace) -> list[Cleanup]:
    ComponentVersion.objects.filter(workspace=workspace).delete()
    Component.objects.filter(workspace=workspace).delete()
    return []


PART = WorkspacePart(name="pipelines", inventory=inventory, purge=purge, order=5)
