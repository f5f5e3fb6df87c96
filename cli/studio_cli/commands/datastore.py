"""`studio datastore list|show|create`. Credentials in a YAML are sent once and never shown again."""

from __future__ import annotations

from studio_cli import schemas
from studio_cli.commands import add_command, add_group
from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import emit
from studio_cli.specs import report_notices, simple_body
from studio_cli.yamlfile import SpecFile, apply_sets

COLUMNS = [
    ("Name", "name"),
    ("Type", "type"),
    ("Default", lambda d: "yes" if d.get("is_default") else ""),
    ("Location", lambda d: d.get("location") or d.get("container_name") or d.get("bucket") or d.get("path")),
    ("Description", "description"),
]


def register(groups, common) -> None:
    actions = add_group(groups, "datastore", "Datastores: named connections to storage.")
    add_command(actions, "list", cmd_list, common, "List datastores.")
    show = add_command(actions, "show", cmd_show, common, "Show a datastore (never its credentials).")
    show.add_argument("name_arg", nargs="?", metavar="NAME")
    show.add_argument("-n", "--name")
    create = add_command(actions, "create", cmd_create, common, "Create a datastore from a YAML file.")
    create.add_argument("-f", "--file", required=True, help="an Azure ML CLI v2 datastore YAML file")
    create.add_argument("-n", "--name", help="override the file's name")
    create.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")


def cmd_list(ctx: Context) -> int:
    emit(ctx.client.list_all(ctx.ws_path("datastores")), ctx.output, COLUMNS)
    return 0


def cmd_show(ctx: Context) -> int:
    name = ctx.args.name or ctx.args.name_arg
    if not name:
        raise CLIError("Which datastore? Give NAME (or --name NAME).")
    emit(ctx.client.get(ctx.ws_path("datastores", name)), ctx.output)
    return 0


def cmd_create(ctx: Context) -> int:
    spec = SpecFile(ctx.args.file)
    apply_sets(spec.data, ctx.args.set)
    body = simple_body(spec, spec.data, schemas.keys(ctx.client, schemas.DATASTORE))
    if ctx.args.name:
        body["name"] = ctx.args.name
    if not body.get("name"):
        raise CLIError(f"{spec.name}: the datastore needs a name (or pass --name).")
    created = ctx.client.post(ctx.ws_path("datastores"), json=body)
    report_notices(spec, created)
    emit(created, ctx.output)
    return 0
