"""The compute app's part of deleting a workspace (studio.deletion): its compute targets go with
it (the cascade removes them and their node rows); worker processes serving them stop finding
work. The built-in `local` target is not counted as something a member made."""

from __future__ import annotations

from compute.models import ComputeTarget, ComputeType
from studio.deletion import WorkspacePart
from studio.models import Workspace


def inventory(workspace: Workspace) -> dict[str, int]:
    targets = ComputeTarget.objects.filter(workspace=workspace).exclude(type=ComputeType.LOCAL)
    return {"compute targets": targets.count()}


PART = WorkspacePart(name="compute", inventory=inventory, order=40)
