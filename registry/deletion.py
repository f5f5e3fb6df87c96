"""The registry's part of deleting a workspace (studio.deletion): its models and their versions.
Versions protect the artifact datastore their files are in, so their rows go before the
datastores part runs; the files go with the workspace's built-in datastores (datastores.deletion)."""

from __future__ import annotations

from registry.models import Model, ModelVersion
from studio.deletion import Cleanup, WorkspacePart
from studio.models import Workspace


def inventory(workspace: Workspace) -> dict[str, int]:
    return {"models": Model.objects.filter(workspace=workspace).count()}


def purge(workspace: Workspace) -> list[Cleanup]:
    ModelVersion.objects.filter(workspace=workspace).delete()  # aliases and usages cascade
    Model.objects.filter(workspace=workspace).delete()
    return []


PART = WorkspacePart(name="registry", inventory=inventory, purge=purge, order=20)
