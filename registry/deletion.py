"""The registry's part of deleting a workspace (studio.deletion): its models and their versions.
A version's files sit in a datastore: in a built-in one they go with the workspace's built-in
files; in a registered one (the team's own storage) they stay."""

from __future__ import annotations

from registry.models import Model, ModelVersion
from studio.deletion import Cleanup, WorkspacePart
from studio.models import Workspace


def inventory(workspace: Workspace) -> dict[str, int]:
    return {"models": Model.objects.filter(workspace=workspace).count()}


def purge(workspace: Workspace) -> list[Cleanup]:
    # Versions protect their datastore; without them the workspace cascade runs.
    ModelVersion.objects.filter(workspace=workspace).delete()
    return []


PART = WorkspacePart(name="registry", inventory=inventory, purge=purge, order=25)
