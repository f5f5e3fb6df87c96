"""What the top-bar search finds among compute targets."""

from __future__ import annotations

from compute.models import ComputeTarget
from studio.search import Hit, matching


def compute_targets(user, workspace, query: str, limit: int) -> list[Hit]:
    rows = matching(ComputeTarget.objects.for_user(user).filter(workspace=workspace), query)
    return [Hit(t.name, t.get_absolute_url(), t.get_type_display()) for t in rows.select_related("workspace")[:limit]]
