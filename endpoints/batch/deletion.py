"""The batch endpoints' part of deleting a workspace: deployments protect their model, code and
environment rows, so they go before those (their jobs go with the workspace's jobs)."""

from __future__ import annotations

from endpoints.batch.models import BatchDeployment, BatchEndpoint
from studio.deletion import Cleanup, WorkspacePart
from studio.models import Workspace


def inventory(workspace: Workspace) -> dict[str, int]:
    return {"batch endpoints": BatchEndpoint.objects.filter(workspace=workspace).count()}


def purge(workspace: Workspace) -> list[Cleanup]:
    BatchDeployment.objects.filter(endpoint__workspace=workspace).delete()
    return []


PART = WorkspacePart(name="batch-endpoints", inventory=inventory, purge=purge, order=20)
