"""State changes of models, one function each, and the reads other apps rely on.

Contract for callers (pages, the REST API, the CLI through it, jobs through the hooks registered in
apps.py, and the tracking app's MLflow registry endpoints):
- Every `do_*` function is atomic, writes an activity event, and raises `ValidationError` (HTTP 400,
  field messages) for bad input or `studio.errors.Conflict` (409) for a clash with what exists.
  `actor` is the acting user (or None for the system); permission checks are the caller's job.
- Versions are immutable: only description, tags, stage, aliases and `archived` change later.
- Files are copied into the workspace's `workspaceartifactstore` under `registered_models/<name>/<id>/`
  (MLflow's logged models use `models/`) when a version is made (see `files_location`), so a source
  that changes or goes away later does not change the model.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from datastores import paths
from datastores.data_services import get_datastore
from datastores.models import Datastore
from datastores.services import clean_tags
from datastores.storage import Entry, StorageError, Store, store_for
from datastores.uploads import UploadSink, discard, staging_sink
from jobs.models import Job
from registry import mlmodel, sources
from registry.models import Model, ModelAlias, ModelUsage, ModelVersion, alias_validator, model_name_validator
from registry.references import ModelRef, parse_reference
from studio import activity, versioning
from studio.errors import Conflict
from studio.models import Workspace
from studio.yamlspec import check_keys, load_mapping

# The acting user (None: Studio itself), as in the other apps' services.
Actor = User | None
ARTIFACT_DATASTORE = "workspaceartifactstore"
FILES_PREFIX = "registered_models"  # in ARTIFACT_DATASTORE; MLflow logged models live under models/
MODEL_YAML_KEYS = {"name", "version", "type", "path", "description", "tags", "properties"}
# Accepted for compatibility with Azure ML files, not used (Azure's free-text stage is not MLflow's).
MODEL_YAML_IGNORED = {"stage", "flavors", "datastore", "job_name", "intellectual_property"}
RESERVED_NAMES = {"new"}
UPLOAD_SOURCE = "local upload"


# --- checking input -------------------------------------------------------------------------------


def _no_nul(value: Any, field: str) -> None:
    """NUL characters are refused everywhere (PostgreSQL cannot store them in text)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError({field: ["The value contains a NUL character."]})
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(str(key), field)
            _no_nul(item if isinstance(item, str) else str(item), field)


def _mapping(value: Any, field: str) -> dict[str, str]:
    """Tags and properties: a mapping of trimmed names to trimmed string values."""
    _no_nul(value, field)
    try:
        cleaned = clean_tags(value)
    except ValidationError:
        raise ValidationError({field: [f"{field.capitalize()} are a mapping of names to values."]}) from None
    if len(cleaned) > 200 or any(len(k) > 250 or len(v) > 5000 for k, v in cleaned.items()):
        raise ValidationError({field: ["At most 200 entries, names up to 250 and values up to 5000 characters."]})
    return cleaned


def _description(value: str | None) -> str:
    value = (value or "").strip()
    _no_nul(value, "description")
    if len(value) > 5000:
        raise ValidationError({"description": ["At most 5000 characters."]})
    return value


def check_name(name: str) -> str:
    """A valid model name (as data asset names: letters, digits, '.', '_', '-'), or a ValidationError."""
    name = (name or "").strip()
    _no_nul(name, "name")
    try:
        model_name_validator(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    if name.lower() in RESERVED_NAMES:
        raise ValidationError({"name": [f"{name!r} is reserved; choose another name."]})
    return name


def check_type(model_type: str | None) -> str | None:
    if model_type in (None, ""):
        return None
    if model_type not in ModelVersion.Type.values:
        raise ValidationError({"type": [f"Choose one of: {', '.join(ModelVersion.Type.values)}."]})
    return model_type


def check_version(version: Any) -> str | None:
    """None (auto-number) or a valid explicit version label."""
    if version in (None, ""):
        return None
    _no_nul(str(version), "version")
    version = versioning.validate_version(str(version))
    if version == "latest":
        raise ValidationError({"version": ["'latest' is a label, not a version."]})
    return version


def parse_model_yaml(text: str) -> dict[str, Any]:
    """An Azure ML CLI v2 model YAML (name, version, type, path, description, tags, properties)
    as the same dict the REST API takes; errors name the line."""
    data = load_mapping(text, source="model YAML", field="spec")
    check_keys(data, MODEL_YAML_KEYS, source="model YAML", field="spec", ignored=MODEL_YAML_IGNORED)
    out = {k: v for k, v in data.items() if k in MODEL_YAML_KEYS}
    if out.get("version") is not None:
        out["version"] = str(out["version"])
    return out


# --- where files are ------------------------------------------------------------------------------


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


# --- resolving references -------------------------------------------------------------------------


def _versions(workspace: Workspace, name: str) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(workspace=workspace, model__name=name).select_related(
        "model", "model__workspace", "datastore", "workspace"
    )


def find(workspace: Workspace, ref: ModelRef) -> ModelVersion | None:
    """The version a parsed reference names, or None."""
    qs = _versions(workspace, ref.name)
    if ref.version is not None:
        return qs.filter(version=ref.version).first()
    if ref.alias is not None:
        alias = ModelAlias.objects.filter(model__workspace=workspace, model__name=ref.name, alias=ref.alias).first()
        return qs.filter(pk=alias.version_id).first() if alias else None
    if ref.stage is not None:
        return versioning.latest(qs.filter(stage=ref.stage))
    return versioning.latest(qs)


def resolve(workspace: Workspace, ref: str, *, field: str = "model") -> ModelVersion:
    """`name:version`, `name@latest`, `name@<alias>` (optionally `azureml:`-prefixed), or MLflow's
    `models:/name/<version>`, `models:/name@<alias>`, `models:/name/latest|<stage>` -> the version.
    `@latest` skips archived versions; an exact version resolves even when archived. Raises a
    ValidationError on `field` when there is no such version."""
    parsed = parse_reference(ref, field=field)
    found = find(workspace, parsed)
    if found is None:
        raise ValidationError({field: [f"There is no model {parsed} in {workspace.name}."]})
    return found


def get_version(workspace: Workspace, name: str, version: str) -> ModelVersion:
    """For URLs: `version` may be "latest" (the newest non-archived). Http404 when missing."""
    qs = _versions(workspace, name)
    found = versioning.latest(qs) if version == "latest" else qs.filter(version=version).first()
    if found is None:
        raise Http404(f"No model {name}:{version} in {workspace.name}.")
    return found


def latest_version_ids(queryset: QuerySet[ModelVersion], *, include_archived: bool = False, tag: str = "") -> list[int]:
    """The ids of the newest version of each model in `queryset` (a ModelVersion queryset), in
    model-name order; archived versions count only with `include_archived`; `tag` (key or
    key=value) keeps the models whose newest version has it. One light query, whatever the count."""
    if not include_archived:
        queryset = queryset.filter(archived=False)
    by_model: dict[int, tuple] = {}
    rows = queryset.values_list("pk", "model_id", "model__name", "version", "created_at", "tags")
    for pk, model_id, name, version, created_at, tags in rows:
        key = (versioning.version_sort_key(version), created_at, pk)
        if model_id not in by_model or key > by_model[model_id][0]:
            by_model[model_id] = (key, name, tags)
    chosen = [
        (name.lower(), key[2]) for key, name, tags in by_model.values() if not tag or _tags_match(tags or {}, tag)
    ]
    return [pk for _, pk in sorted(chosen)]


def fetch_versions(ids: list[int]) -> list[ModelVersion]:
    """Versions by id, in the order given, with what lists show (model, aliases, datastore)."""
    rows = (
        ModelVersion.objects.filter(pk__in=ids)
        .select_related("model", "model__workspace", "workspace", "datastore", "created_by")
        .prefetch_related("aliases", "model__aliases__version")
    )
    found = {row.pk: row for row in rows}
    return [found[pk] for pk in ids if pk in found]


def latest_versions(
    queryset: QuerySet[ModelVersion], *, include_archived: bool = False, tag: str = ""
) -> list[ModelVersion]:
    """The newest version of each model in `queryset`, by model name (see latest_version_ids)."""
    return fetch_versions(latest_version_ids(queryset, include_archived=include_archived, tag=tag))


def _tags_match(tags: dict, tag: str) -> bool:
    """`key` or `key=value` against a version's tags (the list page's and API's tag filter)."""
    key, sep, value = tag.partition("=")
    key, value = key.strip(), value.strip()
    return key in tags and (not sep or tags[key] == value)


# --- creating versions ----------------------------------------------------------------------------


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
    if version is not None and _versions(workspace, name).filter(version=version).exists():
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
            model, _ = Model.objects.get_or_create(workspace=workspace, name=name, defaults={"created_by": actor_user})
            model = Model.objects.select_for_update().get(pk=model.pk)
            taken = list(model.versions.values_list("version", flat=True))
            if version is None:
                version = versioning.next_version(taken)
            elif version in taken:
                raise Conflict(
                    {"version": [f"{name}:{version} already exists; versions cannot change. Use another version."]}
                )
            row = ModelVersion.objects.create(
                model=model,
                workspace=workspace,
                version=version,
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
                created_by=actor_user,
            )
            Model.objects.filter(pk=model.pk).update(updated_at=timezone.now())
            if job is not None:
                ModelUsage.objects.get_or_create(
                    version=row,
                    job_name=job.name,
                    direction=ModelUsage.Direction.OUTPUT,
                    port="",
                    defaults={"workspace": workspace},
                )
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
) -> ModelVersion:
    """A new immutable version of model `name` (the model is created with its first version),
    from `path` (a URI, see registry.sources) or an already resolved `source`.

    The files are copied into the artifact store. `type` None means mlflow_model when the files
    have an MLmodel file at the top, else custom_model; mlflow_model without one is a
    ValidationError. `version` None auto-numbers (highest integer + 1); a taken version is a
    Conflict. A path that does not exist is a ValidationError on `path`. The producing job is the
    source's job (job or run URIs), else the MLmodel's `run_id` when that names a job here.
    """
    name = check_name(name)
    model_type = check_type(type)
    version = check_version(version)
    description = _description(description)
    tags = _mapping(tags, "tags")
    properties = _mapping(properties, "properties")
    _check_free(workspace, name, version)
    if source is None:
        source = sources.resolve_source(workspace, path or "")
    if source.is_file and paths.basename(source.path) == mlmodel.MLMODEL:
        source = sources.Source(source.store, paths.parent(source.path), False, source.uri, source.job)
    datastore = artifact_datastore(workspace)
    store = store_for(datastore)
    folder = _new_folder(name)
    try:
        files, size = sources.copy_files(source, store, folder)
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


def upload_sink_for(workspace: Workspace) -> UploadSink:
    """Where uploaded model files stream to before they become a version (the artifact store's
    staging area). Hand it to datastores.uploads.parse_multipart, then to
    do_create_model_version_from_upload (which also cleans it up on failure)."""
    return staging_sink(store_for(artifact_datastore(workspace)))


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
        description = _description(description)
        tags = _mapping(tags, "tags")
        properties = _mapping(properties, "properties")
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


# --- changing models and versions -----------------------------------------------------------------


@transaction.atomic
def do_create_model(
    workspace: Workspace, *, actor: Actor, name: str, description: str | None = "", tags: dict | None = None
) -> Model:
    """A model with no versions yet (MLflow's create_registered_model); a taken name is a Conflict.
    Versions made later with do_create_model_version join it."""
    name = check_name(name)
    description = _description(description)
    tags = _mapping(tags, "tags")
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


def _edit(
    row: Model | ModelVersion,
    *,
    description: str | None,
    tags: dict | None,
    set_tags: dict | None,
    delete_tags: list[str] | None,
) -> list[str]:
    """Apply a description/tags change to a model or a version and save it; returns what changed."""
    changed = []
    if description is not None and _description(description) != row.description:
        row.description = _description(description)
        changed.append("description")
    new_tags = _mapping(tags, "tags") if tags is not None else dict(row.tags)
    if set_tags:
        new_tags.update(_mapping(set_tags, "tags"))
    for key in delete_tags or ():
        new_tags.pop(str(key), None)
    if new_tags != row.tags:
        row.tags = new_tags
        changed.append("tags")
    if changed:
        row.updated_at = timezone.now()
        row.save(update_fields=[*changed, "updated_at"])
    return changed


@transaction.atomic
def do_update_model(
    model: Model,
    *,
    actor: Actor,
    description: str | None = None,
    tags: dict | None = None,
    set_tags: dict | None = None,
    delete_tags: list[str] | None = None,
) -> Model:
    """The model's own description and tags. `tags` replaces them all; `set_tags` adds or
    changes some; `delete_tags` removes keys (absent keys are fine). None leaves a field alone."""
    changed = _edit(model, description=description, tags=tags, set_tags=set_tags, delete_tags=delete_tags)
    if changed:
        activity.record(model.workspace, actor, "model.updated", model.name, fields=changed)
    return model


@transaction.atomic
def do_update_model_version(
    version: ModelVersion,
    *,
    actor: Actor,
    description: str | None = None,
    tags: dict | None = None,
    set_tags: dict | None = None,
    delete_tags: list[str] | None = None,
) -> ModelVersion:
    """A version's description and tags (the only mutable parts besides stage, aliases and
    archived); same argument rules as do_update_model."""
    changed = _edit(version, description=description, tags=tags, set_tags=set_tags, delete_tags=delete_tags)
    if changed:
        activity.record(version.workspace, actor, "model.version_updated", version.reference, fields=changed)
    return version


@transaction.atomic
def do_rename_model(model: Model, new_name: str, *, actor: Actor) -> Model:
    """Rename a model (its versions follow; files stay where they are). A taken name is a Conflict."""
    new_name = check_name(new_name)
    if new_name == model.name:
        return model
    if Model.objects.filter(workspace=model.workspace, name=new_name).exists():
        raise Conflict({"name": [f"There is already a model named {new_name!r}."]})
    old = model.name
    model.name = new_name
    model.updated_at = timezone.now()
    model.save(update_fields=["name", "updated_at"])
    activity.record(model.workspace, actor, "model.renamed", new_name, old_name=old)
    return model


def check_alias(alias: str) -> str:
    """MLflow's alias rules: letters, digits, '_' and '-'; `latest` and `v<number>` are reserved."""
    alias = (alias or "").strip()
    _no_nul(alias, "alias")
    try:
        alias_validator(alias)
    except ValidationError as exc:
        raise ValidationError({"alias": exc.messages}) from None
    if alias.lower() == "latest" or (alias[:1] in "vV" and alias[1:].isdigit()):
        raise ValidationError({"alias": [f"{alias!r} is reserved (latest and v<number> name versions already)."]})
    return alias


@transaction.atomic
def do_set_alias(version: ModelVersion, alias: str, *, actor: Actor) -> ModelAlias:
    """Point `name@alias` at `version`, moving it from another version of the same model if it
    was elsewhere (an alias is unique per model)."""
    alias = check_alias(alias)
    row, created = ModelAlias.objects.select_for_update().get_or_create(
        model=version.model, alias=alias, defaults={"version": version, "workspace": version.workspace}
    )
    if not created and row.version_id != version.pk:
        row.version = version
        row.updated_at = timezone.now()
        row.save(update_fields=["version", "updated_at"])
    elif not created:
        return row
    activity.record(
        version.workspace, actor, "model.alias_set", f"{version.model.name}@{alias}", version=version.version
    )
    return row


@transaction.atomic
def do_delete_alias(model: Model, alias: str, *, actor: Actor) -> None:
    """Remove `name@alias`; an alias that does not exist is a ValidationError on `alias`."""
    deleted, _ = ModelAlias.objects.filter(model=model, alias=str(alias)).delete()
    if not deleted:
        raise ValidationError({"alias": [f"{model.name} has no alias {alias!r}."]})
    activity.record(model.workspace, actor, "model.alias_deleted", f"{model.name}@{alias}")


def check_stage(stage: str) -> str:
    """MLflow's stages, matched case-insensitively as MLflow does."""
    for value in ModelVersion.Stage.values:
        if str(stage or "").strip().lower() == value.lower():
            return value
    raise ValidationError({"stage": [f"Choose one of: {', '.join(ModelVersion.Stage.values)}."]})


@transaction.atomic
def do_set_stage(version: ModelVersion, stage: str, *, actor: Actor, archive_existing: bool = False) -> ModelVersion:
    """MLflow's legacy stage transition. With `archive_existing`, other versions of the model
    in the same target stage (Staging or Production) move to Archived, as in MLflow."""
    stage = check_stage(stage)
    if archive_existing and stage in (ModelVersion.Stage.STAGING, ModelVersion.Stage.PRODUCTION):
        ModelVersion.objects.filter(model=version.model, stage=stage).exclude(pk=version.pk).update(
            stage=ModelVersion.Stage.ARCHIVED, updated_at=timezone.now()
        )
    if version.stage != stage:
        old = version.stage
        version.stage = stage
        version.updated_at = timezone.now()
        version.save(update_fields=["stage", "updated_at"])
        activity.record(version.workspace, actor, "model.stage_changed", version.reference, old=old, stage=stage)
    return version


def _set_archived(version: ModelVersion, archived: bool, *, actor: Actor, verb: str) -> ModelVersion:
    if version.archived != archived:
        version.archived = archived
        version.updated_at = timezone.now()
        version.save(update_fields=["archived", "updated_at"])
        activity.record(version.workspace, actor, verb, version.reference)
    return version


@transaction.atomic
def do_archive_model_version(version: ModelVersion, *, actor: Actor) -> ModelVersion:
    """Hide a version from lists and from @latest (jobs that name it exactly still can)."""
    return _set_archived(version, True, actor=actor, verb="model.archived")


@transaction.atomic
def do_restore_model_version(version: ModelVersion, *, actor: Actor) -> ModelVersion:
    """Bring an archived version back into lists and @latest."""
    return _set_archived(version, False, actor=actor, verb="model.restored")


def _remove_files_on_commit(rows: list[tuple[Datastore, str]]) -> None:
    def remove() -> None:
        for datastore, folder in rows:
            try:
                store_for(datastore).rm(folder, recursive=True)
            except (StorageError, ValidationError):
                pass  # the rows are gone; a leftover folder is only space

    transaction.on_commit(remove)


@transaction.atomic
def do_delete_model_version(version: ModelVersion, *, actor: Actor) -> None:
    """Delete a version and its files for good (MLflow's delete_model_version; the REST API's
    DELETE archives instead). A model left with no versions stays, like in MLflow."""
    _remove_files_on_commit([(version.datastore, version.storage_path)])
    reference, workspace = version.reference, version.workspace
    version.delete()
    activity.record(workspace, actor, "model.version_deleted", reference)


@transaction.atomic
def do_delete_model(model: Model, *, actor: Actor) -> None:
    """Delete a model with all its versions and their files (MLflow's delete_registered_model)."""
    _remove_files_on_commit([(v.datastore, v.storage_path) for v in model.versions.select_related("datastore")])
    name, workspace = model.name, model.workspace
    model.delete()
    activity.record(workspace, actor, "model.deleted", name)


def record_usage(
    version: ModelVersion | int, job_name: str, *, direction: str = ModelUsage.Direction.INPUT, port: str = ""
) -> ModelUsage:
    """Lineage: job `job_name` read (input) or wrote (output) this version. Idempotent."""
    if not isinstance(version, ModelVersion):
        version = ModelVersion.objects.get(pk=version)
    usage, _ = ModelUsage.objects.get_or_create(
        version=version,
        job_name=str(job_name)[:100],
        direction=direction,
        port=str(port or "")[:255],
        defaults={"workspace_id": version.workspace_id},
    )
    return usage
