"""The datastores app's part of deleting a workspace (studio.deletion): its data assets, its
registered datastores (their storage is the team's and stays untouched) and the files of its
built-in datastores (uploads, job outputs), which belong to the workspace alone."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings

from datastores.models import DataAsset, Datastore, DataVersion
from datastores.storage import builtin_backend, builtin_store
from studio.deletion import Cleanup, WorkspacePart
from studio.models import Workspace

logger = logging.getLogger(__name__)


def inventory(workspace: Workspace) -> dict[str, int]:
    return {
        "data assets": DataAsset.objects.filter(workspace=workspace).count(),
        "registered datastores (their storage is kept)": Datastore.objects.filter(
            workspace=workspace, builtin=False
        ).count(),
    }


def purge(workspace: Workspace) -> list[Cleanup]:
    # Data versions protect their datastore; without them the workspace cascade runs.
    DataVersion.objects.filter(workspace=workspace).delete()
    builtins = list(Datastore.objects.filter(workspace=workspace, builtin=True).select_related("workspace"))
    if not builtins:
        return []
    key = builtins[0].workspace_storage_key
    if builtin_backend() == "local":
        folder = Path(settings.STUDIO_DATASTORES_ROOT) / key
        return [lambda: shutil.rmtree(folder, ignore_errors=True)]
    return [lambda name=d.name: _remove_prefix(key, name) for d in builtins]


def _remove_prefix(key: str, name: str) -> None:
    try:
        store = builtin_store(key, name)
        store.fs.rm(store.root, recursive=True)
    except Exception:  # the object store may be away: files stay, unreachable from any workspace
        logger.warning("could not remove %s/%s of a deleted workspace", key, name, exc_info=True)


PART = WorkspacePart(name="datastores", inventory=inventory, purge=purge, order=30)
