"""What the top-bar search finds among registered models."""

from __future__ import annotations

from registry.models import Model
from studio.search import Hit, matching


def models(user, workspace, query: str, limit: int) -> list[Hit]:
    rows = matching(Model.objects.for_user(user).filter(workspace=workspace), query)
    return [Hit(m.name, m.get_absolute_url(), "model") for m in rows.select_related("workspace")[:limit]]
