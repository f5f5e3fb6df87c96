"""What the top-bar search finds among data assets and datastores."""

from __future__ import annotations

from datastores.models import DataAsset, Datastore
from studio.search import Hit, matching


def data_assets(user, workspace, query: str, limit: int) -> list[Hit]:
    rows = matching(DataAsset.objects.for_user(user).filter(workspace=workspace), query)
    return [Hit(a.name, a.get_absolute_url(), "data asset") for a in rows.select_related("workspace")[:limit]]


def datastores(user, workspace, query: str, limit: int) -> list[Hit]:
    rows = matching(Datastore.objects.for_user(user).filter(workspace=workspace), query)
    return [Hit(d.name, d.get_absolute_url(), "datastore") for d in rows.select_related("workspace")[:limit]]
