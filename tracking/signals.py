"""Files follow their rows: when a job (run) or a logged model is deleted, its MLflow artifacts
are removed from the artifact store once the deletion commits."""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from datastores.storage import StorageError
from tracking.artifacts import store_for_workspace

log = logging.getLogger(__name__)


def _remove_on_commit(workspace_id: int, folder: str) -> None:
    from studio.models import Workspace

    try:
        store = store_for_workspace(Workspace.objects.get(pk=workspace_id))
    except (ObjectDoesNotExist, StorageError):
        return  # the workspace (and its datastores) are going too

    def remove() -> None:
        try:
            store.rm(folder, recursive=True)
        except (StorageError, ValidationError) as exc:
            log.warning("could not remove %s: %s", folder, exc)

    transaction.on_commit(remove)


def job_deleted(sender, instance, **kwargs) -> None:
    _remove_on_commit(instance.workspace_id, f"runs/{instance.name}")


def logged_model_deleted(sender, instance, **kwargs) -> None:
    _remove_on_commit(instance.workspace_id, f"models/{instance.model_id}")
