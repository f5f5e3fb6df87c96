"""The endpoints' part of deleting a workspace: deployments protect their model and code rows,
so they go first; their instance processes stop at the next reconcile (no row, no process)."""

from __future__ import annotations

from endpoints.models import OnlineDeployment, OnlineEndpoint
from studio.deletion import Cleanup, WorkspacePart
from studio.models import Workspace


def inventory(workspace: Workspace) -> dict[str, int]:
    return {"online endpoints": OnlineEndpoint.objects.filter(workspace=workspace).count()}


def purge(workspace: Workspace) -> list[Cleanup]:
    OnlineDeployment.objects.filter(endpoint__workspace=workspace).delete()
    return []


PART = WorkspacePart(name="endpoints", inventory=inventory, purge=purge, order=20)
