"""Local data in YAML files: a data asset's `path: ./data/x.csv` and a job input's local `path:`
are uploaded (with a progress bar) into the workspace's datastore under `LocalUpload/<hash>/`,
the same content-addressed place the server uses, so uploading the same files twice is cheap."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from studio_cli.context import Context
from studio_cli.errors import ApiError, CLIError
from studio_cli.output import info
from studio_cli.packaging import list_files
from studio_cli.uploads import FilePart, upload_files

LOCAL_UPLOAD = "LocalUpload"


def file_parts(local: Path) -> list[FilePart]:
    """The files to send for `local` (a file, or a folder minus .amlignore/.gitignore matches)."""
    found = list_files(local)
    if not found:
        raise CLIError(f"{local}: nothing to upload (the folder is empty or every file is ignored).")
    return [("file", path, name) for path, name in found]


def content_hash(parts: list[FilePart]) -> str:
    """sha256 over each file's name and content hash (32 hex), as the server names LocalUpload folders."""
    digest = hashlib.sha256()
    for _, path, name in sorted(parts, key=lambda p: p[2]):
        file_digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(1024 * 1024):
                file_digest.update(block)
        digest.update(f"{name}\0{file_digest.hexdigest()}\n".encode())
    return digest.hexdigest()[:32]


def create_data_version_from_files(ctx: Context, name: str, spec_body: dict, local: Path) -> dict:
    """POST the asset's fields and its files in one multipart request; the server stores the files
    in workspaceblobstore/LocalUpload/<hash>/ and points the new version there."""
    parts = file_parts(local)
    info(f"Uploading {len(parts)} file{'s' if len(parts) != 1 else ''} from {local}")
    body = {k: v for k, v in spec_body.items() if k != "path"}
    return upload_files(
        ctx.client,
        ctx.ws_path("data", name, "versions"),
        parts,
        label=f"Uploading {local.name}",
        fields={"spec": json.dumps(body)},
    )


def default_datastore(ctx: Context) -> str:
    for store in ctx.client.list_all(ctx.ws_path("datastores")):
        if store.get("is_default"):
            return store["name"]
    return "workspaceblobstore"


def upload_to_default_datastore(ctx: Context, local: Path) -> str:
    """Upload a job input's local file or folder; return its `azureml://datastores/…` URI."""
    parts = file_parts(local)
    datastore = default_datastore(ctx)
    folder = f"{LOCAL_UPLOAD}/{content_hash(parts)}"
    if not _exists(ctx, datastore, folder):
        info(f"Uploading {len(parts)} file{'s' if len(parts) != 1 else ''} from {local} to {datastore}")
        upload_files(
            ctx.client,
            ctx.ws_path("datastores", datastore, "files"),
            parts,
            label=f"Uploading {local.name}",
            params={"path": folder, "overwrite": "true"},
        )
    if local.is_file():
        return f"azureml://datastores/{datastore}/paths/{folder}/{local.name}"
    return f"azureml://datastores/{datastore}/paths/{folder}/"


def _exists(ctx: Context, datastore: str, folder: str) -> bool:
    try:
        listing = ctx.client.get(ctx.ws_path("datastores", datastore, "browse"), params={"path": folder})
    except ApiError as exc:
        if exc.status == 404:
            return False
        raise
    return bool(listing.get("entries"))
