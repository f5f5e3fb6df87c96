"""`studio workspace list|show|create|set-default`."""

from __future__ import annotations

import argparse

from studio_cli.client import q
from studio_cli.commands import add_command, add_group, parse_tags
from studio_cli.config import Config
from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import emit, info
from studio_cli.yamlfile import SpecFile, apply_sets, check_keys

COLUMNS = [
    ("Name", "name"),
    ("Role", "role"),
    ("Description", "description"),
    ("Created by", "created_by"),
    ("Created", "created_at"),
]
KEYS = {"name", "description", "tags", "display_name", "location", "resource_group", "properties"}


def register(groups, common) -> None:
    actions = add_group(groups, "workspace", "Workspaces you are a member of.")
    add_command(actions, "list", cmd_list, common, "List your workspaces (* marks the default).")
    show = add_command(actions, "show", cmd_show, common, "Show a workspace (default: the default one).")
    show.add_argument("name", nargs="?", help="workspace name")
    show.add_argument("-n", "--name", dest="name_opt", help=argparse.SUPPRESS)
    create = add_command(actions, "create", cmd_create, common, "Create a workspace; you become its Owner.")
    create.add_argument("-n", "--name", help="workspace name")
    create.add_argument("-f", "--file", help="a workspace YAML file (name, description, tags)")
    create.add_argument("--description")
    create.add_argument("--tags", nargs="*", metavar="KEY=VALUE")
    create.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")
    default = add_command(actions, "set-default", cmd_set_default, common, "Use this workspace when -w is not given.")
    default.add_argument("name", help="workspace name")


def cmd_list(ctx: Context) -> int:
    items = ctx.client.list_all("workspaces/")
    if ctx.output == "table":
        default = ctx.config.workspace
        columns = [("", lambda i: "*" if i.get("name") == default else "")] + COLUMNS
        emit(items, "table", columns)
    else:
        emit(items, ctx.output)
    return 0


def cmd_show(ctx: Context) -> int:
    name = ctx.args.name or ctx.args.name_opt or ctx.workspace
    emit(ctx.client.get(f"workspaces/{q(name)}/"), ctx.output)
    return 0


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    body: dict = {}
    if args.file:
        spec = SpecFile(args.file)
        apply_sets(spec.data, args.set)
        check_keys(spec, spec.data, KEYS)
        body = {k: v for k, v in spec.data.items() if k in {"name", "description", "tags"}}
    if args.name:
        body["name"] = args.name
    if args.description is not None:
        body["description"] = args.description
    if args.tags:
        body["tags"] = parse_tags(args.tags)
    if not body.get("name"):
        raise CLIError("Give the workspace a name: --name NAME (or `name:` in --file).")
    created = ctx.client.post("workspaces/", json=body)
    emit(created, ctx.output)
    return 0


def cmd_set_default(ctx: Context) -> int:
    workspace = ctx.client.get(f"workspaces/{q(ctx.args.name)}/")  # must exist and be visible
    config = Config.load(with_env=False)
    config.workspace = workspace["name"]
    config.save()
    info(f"Default workspace: {workspace['name']}")
    return 0
