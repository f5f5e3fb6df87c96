"""`studio data list|show|create`. A local `path:` is uploaded to the workspace's default datastore
first, and the data asset then points at it (`azureml://datastores/<name>/paths/<path>`)."""

from __future__ import annotations

from studio_cli import schemas
from studio_cli.commands import add_group
from studio_cli.commands.assets import apply_name_version, register_create_archive, register_list_show
from studio_cli.context import Context
from studio_cli.datafiles import create_data_version_from_files
from studio_cli.errors import CLIError
from studio_cli.output import emit
from studio_cli.refs import is_remote
from studio_cli.specs import simple_body
from studio_cli.yamlfile import SpecFile, apply_sets

COLUMNS = [
    ("Name", "name"),
    ("Version", "version"),
    ("Type", "type"),
    ("Path", "path"),
    ("Created", "created_at"),
]


def register(groups, common) -> None:
    actions = add_group(groups, "data", "Data assets: versioned references to files and folders.")
    register_list_show(actions, common, "data", COLUMNS, what="data assets")
    register_create_archive(actions, common, "data", cmd_create, what="a data asset", yaml_kind="data")


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    spec = SpecFile(args.file)
    apply_sets(spec.data, args.set)
    body = simple_body(spec, spec.data, schemas.keys(ctx.client, schemas.DATA))
    apply_name_version(body, args)
    name = body.get("name")
    if not name:
        raise CLIError(f"{spec.name}: the data asset needs a name (or pass --name).")
    if not body.get("path"):
        raise CLIError(f"{spec.name}: the data asset needs a path.")
    if is_remote(str(body["path"])):
        created = ctx.client.post(ctx.ws_path("data", name, "versions"), json=body)
    else:
        created = create_data_version_from_files(ctx, name, body, spec.local_path(spec.data, "path"))
    emit(created, ctx.output)
    return 0
