"""State changes of data assets: create a version (from a datastore path, a URL or local files),
archive, restore, edit description/tags; and lineage (which jobs used which version)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from datastores import paths, spec
from datastores.models import DataAsset, Datastore, DataUsage, DataVersion, asset_name_validator
from datastores.preview import read_mltable
from datastores.storage import StorageError, store_for
from datastores.uploads import UploadSink, discard, settle_local_upload
from studio import activity, netcheck, versioning
from studio.actor import Actor
from studio.errors import Conflict
from studio.models import Workspace
from studio.tags import clean_tags
from studio.yamlspec import load_mapping

SIZE_WALK_LIMIT = 10_000


@dataclass
class Located:
    """Where a data path points: a datastore and a path in it, or a web URL."""

    path: str  # canonical: azureml://datastores/<ds>/paths/<p>[/] or the URL
    datastore: Datastore | None = None
    datastore_path: str = ""
    size_bytes: int | None = None
    file_count: int | None = None


def is_url(path: str) -> bool:
    return path.startswith("https://") or (settings.STUDIO_DATA_ALLOW_HTTP and path.startswith("http://"))


def check_web_url(url: str, *, field: str) -> str:
    """An https:// (or, when allowed, http://) data URL that leads outside Studio's network.
    Query strings stay allowed: presigned URLs carry their signature there."""
    schemes = ("https", "http") if settings.STUDIO_DATA_ALLOW_HTTP else ("https",)
    return netcheck.check_url(url, field=field, schemes=schemes, allow_query=True)


def get_datastore(workspace: Workspace, name: str, *, field: str = "path") -> Datastore:
    datastore = Datastore.objects.filter(workspace=workspace, name=name).select_related("workspace").first()
    if datastore is None:
        raise ValidationError({field: [f"There is no datastore named {name!r} in {workspace.name}."]})
    return datastore


def locate(
    workspace: Workspace, path: str, data_type: str, *, field: str = "path", measure: bool = True, create: bool = False
) -> Located:
    """Check that `path` exists and fits `data_type` (a file for uri_file; a folder for
    uri_folder; a folder with a valid MLTable file for mltable). `create`: a uri_folder that does
    not exist yet is created, as Azure ML does for a data asset or an output that names one."""
    path = (path or "").strip()
    if not path:
        raise ValidationError({field: ["Give a path: azureml://datastores/<name>/paths/<path>, or an https:// URL."]})
    if path.startswith("http://") and not settings.STUDIO_DATA_ALLOW_HTTP:
        raise ValidationError({field: ["Web URLs must use https://."]})
    if is_url(path):
        if len(path) > 2048 or any(ch.isspace() for ch in path):
            raise ValidationError({field: ["That URL is not valid."]})
        return Located(path=check_web_url(path, field=field))
    if not path.startswith("azureml://"):
        raise ValidationError(
            {
                field: [
                    f"{path!r} is not a datastore URI or a URL. Upload local files, or use azureml://datastores/<name>/paths/<path>."
                ]
            }
        )
    uri = paths.parse_uri(path, field=field)
    datastore = get_datastore(workspace, uri.datastore, field=field)
    store = store_for(datastore)
    rel = uri.path
    try:
        if data_type == DataVersion.Type.URI_FILE:
            if not rel or not store.isfile(rel):
                raise ValidationError({field: [f"{datastore.name}/{rel} is not a file (uri_file needs a file)."]})
            entry = store.info(rel)
            return Located(datastore.uri(rel), datastore, rel, entry.size, 1)
        if rel and paths.basename(rel) == "MLTable" and data_type == DataVersion.Type.MLTABLE and store.isfile(rel):
            rel = paths.parent(rel)
        if rel and not store.isdir(rel):
            if not (create and data_type == DataVersion.Type.URI_FOLDER and not store.exists(rel)):
                raise ValidationError(
                    {field: [f"{datastore.name}/{rel} is not a folder ({data_type} needs a folder)."]}
                )
            store.makedirs(rel)
        if data_type == DataVersion.Type.MLTABLE:
            read_mltable(store, rel)
        size = count = None
        if measure:
            size, count = 0, 0
            for entry in store.walk_files(rel, limit=SIZE_WALK_LIMIT):
                size += entry.size or 0
                count += 1
        return Located(datastore.uri(rel, folder=True), datastore, rel, size, count)
    except StorageError as exc:
        raise ValidationError({field: [str(exc)]}) from None


def parse_data_yaml(text: str) -> dict[str, Any]:
    """An Azure ML CLI v2 data YAML, read with the line of each key (DataSpec checks it)."""
    return load_mapping(text, source="data YAML", field="spec")


def do_create_data_version(
    workspace: Workspace,
    *,
    actor: Actor,
    name: str,
    path: str,
    type: str = DataVersion.Type.URI_FOLDER,
    version: str | None = None,
    description: str = "",
    tags: dict | None = None,
) -> DataVersion:
    """A new immutable version of the data asset `name` (created with its first version).
    Auto-numbered unless `version` is given; a taken version is a conflict."""
    name = (name or "").strip()
    try:
        asset_name_validator(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    if name.lower() == "new":
        raise ValidationError({"name": ["'new' is reserved; choose another name."]})
    if type not in DataVersion.Type.values:
        raise ValidationError({"type": [f"Choose one of: {', '.join(DataVersion.Type.values)}."]})
    if version not in (None, ""):
        version = versioning.validate_version(str(version))
        if version == "latest":
            raise ValidationError({"version": ["'latest' is a label, not a version."]})
    else:
        version = None
    located = locate(workspace, path, type, create=True)
    tags = clean_tags(tags)
    try:
        with transaction.atomic():
            data_version = versioning.create_next_version(
                DataAsset,
                workspace,
                name,
                version,
                created_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
                type=type,
                path=located.path,
                datastore=located.datastore,
                datastore_path=located.datastore_path,
                description=(description or "").strip(),
                tags=tags,
                size_bytes=located.size_bytes,
                file_count=located.file_count,
            )
            activity.record(workspace, actor, "data.created", data_version.reference, type=type)
    except IntegrityError:
        raise Conflict({"version": [f"{name}:{version} already exists."]}) from None
    return data_version


def upload_sink_for(workspace: Workspace) -> UploadSink:
    """Where local files for a new data asset stream to (workspaceblobstore's staging area)."""
    from datastores.uploads import staging_sink

    return staging_sink(store_for(get_datastore(workspace, "workspaceblobstore")))


def do_create_data_from_upload(
    workspace: Workspace,
    sink: UploadSink,
    *,
    actor: Actor,
    name: str,
    type: str = DataVersion.Type.URI_FOLDER,
    version: str | None = None,
    description: str = "",
    tags: dict | None = None,
) -> DataVersion:
    """A data version from files uploaded into `sink`: they move to LocalUpload/<hash>/ in
    workspaceblobstore, and the version points there (the file itself for uri_file)."""
    try:
        if type == DataVersion.Type.URI_FILE and len(sink.files) != 1:
            raise ValidationError({"file": ["A uri_file asset is one file: upload exactly one."]})
        if type == DataVersion.Type.MLTABLE and not any(paths.basename(f.path) == "MLTable" for f in sink.files):
            raise ValidationError({"file": ["An mltable upload must include its MLTable file."]})
        folder = settle_local_upload(sink)
    except ValidationError:
        discard(sink)
        raise
    top = {f.path.split("/", 1)[0] for f in sink.files}
    if type == DataVersion.Type.URI_FILE:
        path = paths.to_uri("workspaceblobstore", f"{folder}/{sink.files[0].path}")
    elif len(top) == 1 and all("/" in f.path for f in sink.files):
        path = paths.to_uri("workspaceblobstore", f"{folder}/{top.pop()}", folder=True)
    else:
        path = paths.to_uri("workspaceblobstore", folder, folder=True)
    return do_create_data_version(
        workspace, actor=actor, name=name, path=path, type=type, version=version, description=description, tags=tags
    )


def do_create_data(
    workspace: Workspace,
    *,
    actor: Actor,
    body: Mapping[str, Any],
    sink: UploadSink | None = None,
    source: str = "spec",
) -> DataVersion:
    """A new data version from a definition (`name`, `version`, `type`, `path`, `description`,
    `tags`: the API's body, a data YAML, the page's form; checked by datastores.spec.DataSpec) and,
    for a local upload, the files staged in `sink` (`source` names the body in messages). The one
    way pages and the API create data; staged files are discarded on error."""
    has_files = sink is not None and bool(sink.files or sink.current)
    try:
        body, _ = spec.clean(body, source=source)
        if not body.get("name"):
            raise ValidationError({"name": ["Give the data asset a name."]})
        path = str(body.get("path") or "")
        if has_files and path:
            raise ValidationError({"path": ["Send either files or a path, not both."]})
        if path and not path.startswith("azureml://") and not is_url(path):
            raise ValidationError(
                {
                    "path": [
                        f"path {path!r} is local to your machine: upload its files, or use a datastore URI "
                        "(azureml://datastores/<name>/paths/<path>) or a URL."
                    ]
                }
            )
        version = body.get("version")
        fields: dict[str, Any] = {
            "actor": actor,
            "name": str(body["name"]),
            "type": body.get("type") or DataVersion.Type.URI_FOLDER,
            "version": str(version) if version not in (None, "") else None,
            "description": str(body.get("description") or ""),
            "tags": body.get("tags"),
        }
        if has_files:
            assert sink is not None
            return do_create_data_from_upload(workspace, sink, **fields)
        if not path:
            raise ValidationError({"path": ["Give a path, or upload files."]})
        return do_create_data_version(workspace, path=path, **fields)
    except Exception:
        if sink is not None:
            discard(sink)
        raise


def resolve_version(
    workspace: Workspace, name: str, version: str | None, *, include_archived: bool = True
) -> DataVersion:
    """`version` may be "latest" or None for the newest non-archived version."""
    qs = DataVersion.objects.of_asset(workspace, name)
    if version in (None, "", "latest"):
        found = versioning.latest(qs)
    else:
        found = qs.filter(version=version).first()
        if found is not None and found.archived and not include_archived:
            found = None
    if found is None:
        from django.http import Http404

        raise Http404(f"No data asset {name}:{version or 'latest'} in {workspace.name}.")
    return found


def resolve_reference(workspace: Workspace, ref: str, *, field: str = "path") -> DataVersion:
    """`azureml:name:version` or `azureml:name@latest` -> the version (ValidationError if none)."""
    name, version = versioning.parse_reference(ref, field=field)
    qs = DataVersion.objects.of_asset(workspace, name)
    found = versioning.latest(qs) if version is None else qs.filter(version=version).first()
    if found is None:
        what = f"{name}:{version}" if version else f"{name}@latest"
        raise ValidationError({field: [f"There is no data asset {what} in {workspace.name}."]})
    return found


@transaction.atomic
def do_archive_data_version(data_version: DataVersion, *, actor: Actor) -> DataVersion:
    """Hide a version from lists and from @latest (jobs that name it exactly still can)."""
    if not data_version.archived:
        data_version.archived = True
        data_version.save(update_fields=["archived"])
        activity.record(data_version.workspace, actor, "data.archived", data_version.reference)
    return data_version


@transaction.atomic
def do_restore_data_version(data_version: DataVersion, *, actor: Actor) -> DataVersion:
    if data_version.archived:
        data_version.archived = False
        data_version.save(update_fields=["archived"])
        activity.record(data_version.workspace, actor, "data.restored", data_version.reference)
    return data_version


@transaction.atomic
def do_update_data_version(
    data_version: DataVersion, *, actor: Actor, description: str | None = None, tags: dict | None = None
) -> DataVersion:
    """Description and tags are the only mutable parts of a version."""
    changed = []
    if description is not None and description.strip() != data_version.description:
        data_version.description = description.strip()
        changed.append("description")
    if tags is not None:
        cleaned = clean_tags(tags)
        if cleaned != data_version.tags:
            data_version.tags = cleaned
            changed.append("tags")
    if changed:
        data_version.save(update_fields=changed)
        activity.record(data_version.workspace, actor, "data.updated", data_version.reference, fields=changed)
    return data_version


def record_usage(
    data_version: DataVersion | int, job_name: str, *, direction: str = DataUsage.Direction.INPUT, port: str = ""
) -> DataUsage:
    """Lineage hook for the jobs app: job `job_name` used (input) or produced (output) this version.
    Idempotent."""
    if not isinstance(data_version, DataVersion):
        data_version = DataVersion.objects.get(pk=data_version)
    return DataUsage.record(data_version, job_name, direction=direction, port=port)
