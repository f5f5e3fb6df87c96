"""Where a version's files are (a folder of the workspace's artifact datastore) and reading them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from datastores import paths
from datastores.models import Datastore
from datastores.services import get_datastore
from datastores.storage import Entry, StorageError, Store, store_for
from datastores.uploads import UploadSink, staging_sink
from registry import sources
from registry.models import ModelVersion
from studio.models import Workspace

ARTIFACT_DATASTORE = "workspaceartifactstore"

FILES_PREFIX = "registered_models"  # in ARTIFACT_DATASTORE; MLflow logged models live under models/


@dataclass(frozen=True)
class FilesLocation:
    """Where a version's files are: the folder `path` of `store` (the workspace artifact store).
    `store.fs` is the fsspec filesystem and `full_path` the path to give it."""

    store: Store
    path: str

    @property
    def fs(self) -> Any:
        return self.store.fs

    @property
    def full_path(self) -> str:
        return self.store.full(self.path)


def artifact_datastore(workspace: Workspace) -> Datastore:
    return get_datastore(workspace, ARTIFACT_DATASTORE)


def files_location(version: ModelVersion) -> FilesLocation:
    """The storage location of a version's files (a folder; never a single file)."""
    return FilesLocation(store_for(version.datastore), version.storage_path)


def list_files(version: ModelVersion, limit: int = sources.MAX_FILES) -> list[Entry]:
    """Every file of the version, paths relative to the model's folder, in name order."""
    location = files_location(version)
    base = location.path
    out = []
    for entry in location.store.walk_files(base, limit=limit):
        rel = entry.path[len(base) :].lstrip("/")
        out.append(Entry(name=entry.name, path=rel, is_dir=False, size=entry.size, modified=entry.modified))
    return out


def file_path(version: ModelVersion, rel: str, *, field: str = "path") -> str:
    """The store path of the file `rel` of a version (cleaned: no `..`, no absolute paths)."""
    rel = paths.clean_path(rel, field=field)
    if not rel:
        raise ValidationError({field: ["Give a file path inside the model."]})
    return paths.join(version.storage_path, rel)


def read_small_file(version: ModelVersion, rel: str, limit: int = 256 * 1024) -> bytes | None:
    """Up to `limit` bytes of a file of the version, or None when it is not there."""
    location = files_location(version)
    full = file_path(version, rel)
    try:
        if not location.store.isfile(full):
            return None
        with location.store.open_read(full) as handle:
            return handle.read(limit)
    except StorageError:
        return None


def upload_sink_for(workspace: Workspace) -> UploadSink:
    """Where uploaded model files stream to before they become a version (the artifact store's
    staging area). Hand it to datastores.uploads.parse_multipart, then to
    do_create_model_version_from_upload (which also cleans it up on failure)."""
    return staging_sink(store_for(artifact_datastore(workspace)))
