"""The contract with the jobs app: job inputs from data, job outputs to data.

    resolved = resolve_input(workspace, {"type": "uri_folder", "path": "azureml:iris@latest"}, name="training")
    local = materialize_input(resolved, job_dir / "inputs" / "training")   # -> ${{inputs.training}}
    record_usage(resolved.asset_version_id, job.name)                      # lineage (when from an asset)
    uri = upload_output(workspace, job_dir / "outputs" / "model", job_name=job.name, output_name="model",
                        spec={"type": "uri_folder"})
    register_output_asset(workspace, uri, spec={"name": "model-out"}, job_name=job.name, output_name="model")

`resolve_input` runs at submission (and raises ValidationError naming the input); the result is
plain data (`as_dict()`/`from_dict()`) to keep on the job and hand to the worker, which calls
`materialize_input` before the command starts. `mode` is "ro_mount" or "download": both copy the
data into the job directory here; `local_source()` gives the real folder of a local datastore so a
container backend can bind-mount it read-only instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

from django.core.exceptions import ValidationError

from datastores import paths
from datastores.immutable import check_not_protected
from datastores.models import DataUsage, DataVersion
from datastores.services import (
    check_web_url,
    do_create_data_version,
    get_datastore,
    is_url,
    locate,
    record_usage,
    resolve_reference,
)
from datastores.storage import StorageError, store_for
from studio.models import Workspace
from studio.permissions import can

INPUT_TYPES = ("uri_file", "uri_folder", "mltable")
INPUT_MODES = ("ro_mount", "download")
OUTPUT_MODES = ("rw_mount", "upload")
DEFAULT_OUTPUT_DATASTORE = "workspaceblobstore"
MAX_REDIRECTS = 5
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")

__all__ = [
    "ResolvedInput",
    "resolve_input",
    "materialize_input",
    "local_source",
    "check_output_destination",
    "upload_output",
    "register_output_asset",
    "record_usage",
]


@dataclass(frozen=True)
class ResolvedInput:
    """A job input pinned at submission: what to record and where to read it from."""

    name: str
    type: str
    mode: str
    uri: str  # azureml://datastores/<ds>/paths/<p> or an https URL; never an @latest reference
    workspace_id: int
    datastore: str = ""
    path: str = ""
    asset: str = ""  # "name:version" when the input named a data asset
    asset_version_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResolvedInput:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _err(name: str, message: str, *, kind: str = "inputs") -> ValidationError:
    return ValidationError({f"{kind}.{name}": [message]})


def resolve_input(workspace: Workspace, spec: dict, *, name: str = "input") -> ResolvedInput:
    """Check a job input of type uri_file/uri_folder/mltable and pin what it refers to.

    `path` is `azureml:<asset>:<version>`, `azureml:<asset>@latest`,
    `azureml://datastores/<name>/paths/<path>` or an https:// URL; `mode` is ro_mount (default)
    or download."""
    if not isinstance(spec, dict):
        raise _err(name, "An input is a mapping with type, path and mode.")
    data_type = spec.get("type") or "uri_folder"
    if data_type not in INPUT_TYPES:
        raise _err(name, f"type must be one of {', '.join(INPUT_TYPES)}, not {data_type!r}.")
    mode = spec.get("mode") or "ro_mount"
    if mode not in INPUT_MODES:
        raise _err(name, f"mode must be one of {', '.join(INPUT_MODES)}, not {mode!r}.")
    path = str(spec.get("path") or "").strip()
    if not path:
        raise _err(name, "Give a path: azureml:<asset>:<version>, azureml://datastores/<name>/paths/<path> or a URL.")
    field = f"inputs.{name}"
    try:
        if path.startswith("azureml:") and not path.startswith("azureml://"):
            version = resolve_reference(workspace, path, field=field)
            if version.type != data_type:
                raise _err(name, f"{version.reference} is a {version.type} asset, but the input's type is {data_type}.")
            common = {"name": name, "type": data_type, "mode": mode, "workspace_id": workspace.pk}
            if version.datastore_id is None:
                return ResolvedInput(**common, uri=version.path, asset=version.reference, asset_version_id=version.pk)
            return ResolvedInput(
                **common,
                uri=version.path,
                datastore=version.datastore.name,
                path=version.datastore_path,
                asset=version.reference,
                asset_version_id=version.pk,
            )
        if is_url(path):
            if data_type != "uri_file":
                raise _err(name, "A web URL can only be a uri_file input (folders cannot be listed over https).")
            path = check_web_url(path, field=field)
            return ResolvedInput(name=name, type=data_type, mode=mode, uri=path, workspace_id=workspace.pk)
        if path.startswith("azureml://"):
            located = locate(workspace, path, data_type, field=field, measure=False)
            return ResolvedInput(
                name=name,
                type=data_type,
                mode=mode,
                uri=located.path,
                workspace_id=workspace.pk,
                datastore=located.datastore.name,
                path=located.datastore_path,
            )
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {field: exc.messages}
        raise ValidationError({field: [m for msgs in messages.values() for m in msgs]}) from None
    raise _err(
        name, f"{path!r} is not a data reference: use azureml:<asset>:<version>, a datastore URI or an https URL."
    )


def _store(resolved: ResolvedInput):
    workspace = Workspace.objects.get(pk=resolved.workspace_id)
    return store_for(get_datastore(workspace, resolved.datastore, field=f"inputs.{resolved.name}"))


def local_source(resolved: ResolvedInput | dict) -> Path | None:
    """The real path of an input on a local datastore (for read-only bind mounts), else None."""
    if isinstance(resolved, dict):
        resolved = ResolvedInput.from_dict(resolved)
    if not resolved.datastore:
        return None
    store = _store(resolved)
    if not store.local:
        return None
    return Path(store.full(resolved.path))


def materialize_input(resolved: ResolvedInput | dict, dest_dir: Path) -> Path:
    """Copy the input's data into `dest_dir` and return the path to put in `${{inputs.<name>}}`:
    the file itself for uri_file, `dest_dir` for folders and tables."""
    if isinstance(resolved, dict):
        resolved = ResolvedInput.from_dict(resolved)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    try:
        if not resolved.datastore:
            return _download_url(resolved.uri, dest_dir)
        store = _store(resolved)
        if resolved.type == "uri_file":
            target = dest_dir / paths.basename(resolved.path)
            store.download_file(resolved.path, target)
            return target
        store.download_folder(resolved.path, dest_dir)
        return dest_dir
    except StorageError as exc:
        raise RuntimeError(f"Input {resolved.name}: {exc}") from None


def _download_url(url: str, dest_dir: Path) -> Path:
    import requests

    name = paths.basename(unquote(urlparse(url).path)) or "data"
    try:
        name = paths.clean_path(name) or "data"
    except ValidationError:
        name = "data"
    target = dest_dir / name
    # Redirects are followed by hand so that every hop passes the same address check; errors name
    # the status only, never what the server said.
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            url = check_web_url(url, field="url")
        except ValidationError as exc:
            raise StorageError(f"Not downloaded: {' '.join(exc.messages)}") from None
        try:
            with requests.get(url, stream=True, timeout=(10, 300), allow_redirects=False) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                if response.status_code >= 400:
                    raise StorageError(f"Not downloaded: the server answered HTTP {response.status_code}.")
                with target.open("wb") as out:
                    for chunk in response.iter_content(chunk_size=1024 * 1024):
                        out.write(chunk)
                return target
        except requests.RequestException as exc:
            raise StorageError(f"Not downloaded: no answer from the server ({type(exc).__name__}).") from None
    raise StorageError(f"Not downloaded: more than {MAX_REDIRECTS} redirects.")


def _output_location(workspace: Workspace, *, job_name: str, output_name: str, spec: dict) -> tuple[str, str]:
    for label, value in (("job name", job_name), ("output name", output_name)):
        if not _SAFE_SEGMENT.match(str(value)):
            raise _err(output_name, f"The {label} {value!r} cannot be part of a path.", kind="outputs")
    path = str(spec.get("path") or "").strip()
    if not path:
        return DEFAULT_OUTPUT_DATASTORE, f"azureml/{job_name}/{output_name}"
    try:
        uri = paths.parse_uri(path, field=f"outputs.{output_name}")
    except ValidationError:
        raise _err(output_name, "An output path is azureml://datastores/<name>/paths/<path>.", kind="outputs") from None
    return uri.datastore, uri.path


def _is_own_location(datastore_name: str, base: str, *, job_name: str, output_name: str) -> bool:
    own = f"azureml/{job_name}/{output_name}"
    return datastore_name == DEFAULT_OUTPUT_DATASTORE and (base == own or base.startswith(own + "/"))


def check_output_destination(workspace: Workspace, *, actor, job_name: str, output_name: str, spec: dict) -> None:
    """At submission: an output written anywhere but the job's own default location
    (workspaceblobstore/azureml/<job>/<output>/) needs datastores.write and must not land on the
    files of a data asset version; registering the output as a data asset needs data.write."""
    spec = spec or {}
    datastore_name, base = _output_location(workspace, job_name=job_name, output_name=output_name, spec=spec)
    datastore = get_datastore(workspace, datastore_name, field=f"outputs.{output_name}")
    if not _is_own_location(datastore_name, base, job_name=job_name, output_name=output_name):
        if not can(actor, workspace, "datastores.write"):
            raise _err(
                output_name,
                f"Writing to {datastore.uri(base)} needs datastores.write, which your role in {workspace.name} "
                f"lacks. Leave out `path` to write to the job's own folder "
                f"({DEFAULT_OUTPUT_DATASTORE}/azureml/{job_name}/{output_name}/).",
                kind="outputs",
            )
    # Even the job's own folder: a job named like a deleted one must not rewrite its registered outputs.
    _refuse_immutable(datastore, base, output_name)
    if spec.get("name") and not can(actor, workspace, "data.write"):
        raise _err(
            output_name,
            f"Registering the output as data asset {spec['name']!r} needs data.write, which your role in "
            f"{workspace.name} lacks.",
            kind="outputs",
        )


def _refuse_immutable(datastore, base: str, output_name: str) -> None:
    check_not_protected(datastore, base, field=f"outputs.{output_name}")


def upload_output(workspace: Workspace, src_dir: Path, *, job_name: str, output_name: str, spec: dict) -> str:
    """Upload what a job wrote for an output and return its URI. Default destination:
    azureml://datastores/workspaceblobstore/paths/azureml/<job>/<output>/ (or the spec's `path`).
    A uri_file output uploads its single file. Symbolic links are skipped (they could point anywhere)."""
    spec = spec or {}
    mode = spec.get("mode") or "rw_mount"
    if mode not in OUTPUT_MODES:
        raise _err(output_name, f"mode must be one of {', '.join(OUTPUT_MODES)}.", kind="outputs")
    datastore_name, base = _output_location(workspace, job_name=job_name, output_name=output_name, spec=spec)
    datastore = get_datastore(workspace, datastore_name, field=f"outputs.{output_name}")
    _refuse_immutable(datastore, base, output_name)  # again: a version may have been registered since
    store = store_for(datastore)
    src = Path(src_dir)
    files = _files_under(src)
    if spec.get("type") == "uri_file":
        if len(files) != 1:
            raise _err(output_name, f"A uri_file output must be one file; the job wrote {len(files)}.", kind="outputs")
        rel = files[0][1] if src.is_dir() else src.name
        target = paths.join(base, rel)
        store.upload_file(files[0][0], target)
        return datastore.uri(target)
    for local, rel in files:
        store.upload_file(local, paths.join(base, rel))
    return datastore.uri(base, folder=True)


def _files_under(src: Path) -> list[tuple[Path, str]]:
    if src.is_symlink():
        return []
    if src.is_file():
        return [(src, src.name)]
    found = []
    for root, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(root, d)))
        for name in sorted(names):
            full = Path(root) / name
            if full.is_symlink() or not full.is_file():
                continue
            found.append((full, full.relative_to(src).as_posix()))
    return found


def register_output_asset(
    workspace: Workspace, uri: str, *, spec: dict, job_name: str, output_name: str, actor=None
) -> DataVersion | None:
    """When the output spec has a `name` (and optional `version`), register `uri` as a new
    version of that data asset and record the job as its producer. Returns None otherwise."""
    name = (spec or {}).get("name")
    if not name:
        return None
    data_type = spec.get("type") or "uri_folder"
    version = do_create_data_version(
        workspace,
        actor=actor,
        name=str(name),
        version=spec.get("version"),
        type=data_type,
        path=uri,
        description=f"Output '{output_name}' of job {job_name}.",
    )
    record_usage(version, job_name, direction=DataUsage.Direction.OUTPUT, port=output_name)
    return version
