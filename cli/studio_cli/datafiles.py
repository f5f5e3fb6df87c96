"""Uploading local files and folders to the workspace's default datastore (data assets' and job
inputs' local `path:`), with a progress bar."""

from __future__ import annotations

from pathlib import Path

from studio_cli.context import Context
from studio_cli.errors import CLIError


def default_datastore(ctx: Context) -> str:
    for store in ctx.client.list_all(ctx.ws_path("datastores")):
        if store.get("is_default"):
            return store["name"]
    return "workspaceblobstore"


def upload_to_default_datastore(ctx: Context, local: Path, *, prefix: str) -> str:
    raise CLIError("This server cannot take uploads of local data yet.")
