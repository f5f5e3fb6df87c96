"""Making versions (from a source URI or uploaded files) and models without versions yet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from datastores import paths
from datastores.models import Datastore
from datastores.storage import StorageError, Store, store_for
from datastores.uploads import UploadSink, discard
from jobs.models import Job
from registry import mlmodel, sources
from registry.models import Model, ModelUsage, ModelVersion
from registry.services.actor import Actor
from registry.services.checks import check_name, check_type, check_version, clean_description, clean_mapping
from registry.services.files import FILES_PREFIX, artifact_datastore
from registry.services.lookup import versions_named
from studio import activity, versioning
from studio.errors import Conflict
from studio.models import Workspace

UPLOAD_SOURCE = "local upload"


@dataclass
class _Placed:
    store: Store
    folder: str
    files: int
    size: int


def _new_folder(name: str) -> str:
    return f"{FILES_PREFIX}/{name}/{uuid.uuid4().hex}"


def _drop(placed: _Placed) -> None:
    try:
        placed.store.rm(placed.folder, recursive=True)
    except (StorageError, ValidationError):
        pass  # an orphaned folder costs space only; the error that led here matters more


def _check_free(workspace: Workspace, name: str, version: str | None) -> None:
    if version is not None and versions_named(workspace, name).filter(version=version).exists():
        raise Conflict({"version": [f"{name}:{version} already exists; versions cannot change. Use another version."]})


def _finish(
    workspace: Workspace,
    placed: _Placed,
    *,
    actor: Actor,
    name: str,
    version: str | None,
    model_type: str | None,
    description: str,
    tags: dict[str, str],
    properties: dict[str, str],
    source: str,
    job: Job | None,
    datastore: Datastore,
) -> ModelVersion:
    """Read the MLmodel file, then write the rows. Drops the copied files on any failure."""
    try:
        mlmodel_path = paths.join(placed.folder, mlmodel.MLMODEL)
        parsed: dict[str, Any] = {}
        if placed.store.isfile(mlmodel_path):
            with placed.store.open_read(mlmodel_path) as handle:
                raw = handle.read(mlmodel.MAX_MLMODEL_BYTES + 1)
            if model_type in (None, ModelVersion.Type.MLFLOW):
                parsed = mlmodel.parse_mlmodel(raw)
        if model_type is None:
            model_type = ModelVersion.Type.MLFLOW if parsed else ModelVersion.Type.CUSTOM
        if model_type == ModelVersion.Type.MLFLOW and not parsed:
            raise ValidationError(
                {
                    "path": [
                        "An mlflow_model needs an MLmodel file at the top of its folder; use custom_model otherwise."
                    ]
                }
            )
        if job is None and parsed.get("run_id"):
            job = Job.objects.filter(workspace=workspace, name=parsed["run_id"]).first()
        return _create_rows(
            workspace,
            actor=actor,
            name=name,
            version=version,
            model_type=model_type,
            description=description,
            tags=tags,
            properties=properties,
            source=source,
            job=job,
            datastore=datastore,
            placed=placed,
            parsed=parsed,
        )
    except BaseException:
        _drop(placed)
        raise


def _create_rows(
    workspace: Workspace,
    *,
    actor: Actor,
    name: str,
    version: str | None,
    model_type: str,
    description: str,
    tags: dict[str, str],
    properties: dict[str, str],
    source: str,
    job: Job | None,
    datastore: Datastore,
    placed: _Placed,
    parsed: dict[str, Any],
) -> ModelVersion:
    actor_user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            row = versioning.create_next_version(
                Model,
                workspace,
                name,
                version,
                created_by=actor_user,
                type=model_type,
                description=description,
                tags=tags,
                properties=properties,
                source=source[:2048],
                job=job,
                job_name=job.name if job else "",
                datastore=datastore,
                storage_path=placed.folder,
                size_bytes=placed.size,
                file_count=placed.files,
                mlmodel=parsed,
            )
            Model.objects.filter(pk=row.model_id).update(updated_at=timezone.now())
            if job is not None:
                ModelUsage.record(row, job.name, direction=ModelUsage.Direction.OUTPUT)
            activity.record(workspace, actor, "model.created", row.reference, type=model_type)
    except IntegrityError:
        raise Conflict({"version": [f"{name}:{version} already exists."]}) from None
    return row


def do_create_model_version(
    workspace: Workspace,
    *,
    actor: Actor,
    name: str,
    path: str | None = None,
    source: sources.Source | None = None,
    type: str | None = None,
    version: str | int | None = None,
    description: str | None = "",
    tags: dict | None = None,
    properties: dict | None = None,
    keep_reserve: bool = True,
) -> ModelVersion:
    """A new immutable version of model `name` (the model is created with its first version),
    from `path` (a URI, see registry.sources) or an already resolved `source`.

    The files are copied into the artifact store. `type` None means mlflow_model when the files
    have an MLmodel file at the top, else custom_model; mlflow_model without one is a
    ValidationError. `version` None auto-numbers (highest integer + 1); a taken version is a
    Conflict. A path that does not exist is a ValidationError on `path`. The producing job is the
    source's job (job or run URIs), else the MLmodel's `run_id` when that names a job here.
    The copy keeps the free-space reserve of a local artifact store (datastores/reserve.py)
    unless `keep_reserve` is off, for Studio's own copies as a job ends.
    """
    name = check_name(name)
    model_type = check_type(type)
    version = check_version(version)
    description = clean_description(description)
    tags = clean_mapping(tags, "tags")
    properties = clean_mapping(properties, "properties")
    _check_free(workspace, name, version)
    if source is None:
        source = sources.resolve_source(workspace, path or "")
    if source.is_file and paths.basename(source.path) == mlmodel.MLMODEL:
        source = sources.Source(source.store, paths.parent(source.path), False, source.uri, source.job)
    datastore = artifact_datastore(workspace)
    store = store_for(datastore)
    folder = _new_folder(name)
    try:
        files, size = sources.copy_files(source, store, folder, keep_reserve=keep_reserve)
    except BaseException:
        _drop(_Placed(store, folder, 0, 0))
        raise
    return _finish(
        workspace,
        _Placed(store, folder, files, size),
        actor=actor,
        name=name,
        version=version,
        model_type=model_type,
        description=description,
        tags=tags,
        properties=properties,
        source=source.uri,
        job=source.job,
        datastore=datastore,
    )


def do_create_model_version_from_upload(
    workspace: Workspace,
    sink: UploadSink,
    *,
    actor: Actor,
    name: str,
    type: str | None = None,
    version: str | int | None = None,
    description: str | None = "",
    tags: dict | None = None,
    properties: dict | None = None,
) -> ModelVersion:
    """A version from uploaded files: a folder (files with relative paths), or one `.zip`, which
    is unpacked. A single top folder shared by every file is dropped (uploading `model/` gives
    the files of `model/`). Otherwise as do_create_model_version."""
    try:
        name = check_name(name)
        model_type = check_type(type)
        version = check_version(version)
        description = clean_description(description)
        tags = clean_mapping(tags, "tags")
        properties = clean_mapping(properties, "properties")
        if not sink.files:
            raise ValidationError({"file": ["Choose the model's files (a folder or a zip) to upload."]})
        _check_free(workspace, name, version)
    except ValidationError:
        discard(sink)
        raise
    datastore = artifact_datastore(workspace)
    store = sink.store
    folder = _new_folder(name)
    placed = _Placed(store, folder, 0, 0)
    try:
        if len(sink.files) == 1 and sink.files[0].path.lower().endswith(".zip"):
            placed.files, placed.size = sources.extract_zip(store, paths.join(sink.folder, sink.files[0].path), folder)
            if not placed.files:
                raise ValidationError({"file": ["The zip archive holds no files."]})
            discard_folder = sink.folder
            store.rm(discard_folder, recursive=True)
        else:
            top = {f.path.split("/", 1)[0] for f in sink.files}
            src = sink.folder
            if len(top) == 1 and all("/" in f.path for f in sink.files):
                src = paths.join(sink.folder, top.pop())
            store.move(src, folder)
            placed.files, placed.size = len(sink.files), sink.total_size
            if src != sink.folder:
                store.rm(sink.folder, recursive=True)
    except StorageError as exc:
        discard(sink)
        _drop(placed)
        raise ValidationError({"file": [str(exc)]}) from None
    except BaseException:
        discard(sink)
        _drop(placed)
        raise
    return _finish(
        workspace,
        placed,
        actor=actor,
        name=name,
        version=version,
        model_type=model_type,
        description=description,
        tags=tags,
        properties=properties,
        source=UPLOAD_SOURCE,
        job=None,
        datastore=datastore,
    )


@transaction.atomic
def do_create_model(
    workspace: Workspace, *, actor: Actor, name: str, description: str | None = "", tags: dict | None = None
) -> Model:
    """A model with no versions yet (MLflow's create_registered_model); a taken name is a Conflict.
    Versions made later with do_create_model_version join it."""
    name = check_name(name)
    description = clean_description(description)
    tags = clean_mapping(tags, "tags")
    actor_user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if Model.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict({"name": [f"There is already a model named {name!r}."]})
    try:
        with transaction.atomic():
            model = Model.objects.create(
                workspace=workspace, name=name, description=description, tags=tags, created_by=actor_user
            )
    except IntegrityError:
        raise Conflict({"name": [f"There is already a model named {name!r}."]}) from None
    activity.record(workspace, actor, "model.registered", name)
    return model
