"""`studio compute list|show|create|update|start|stop|delete`."""

from __future__ import annotations

import sys

from studio_cli import schemas
from studio_cli.commands import add_command, add_group, add_name_arguments, name_from_args, parse_tags
from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import emit, info
from studio_cli.specs import report_notices, simple_body
from studio_cli.yamlfile import SpecFile, apply_sets

COLUMNS = [
    ("Name", "name"),
    ("Type", "type"),
    ("Backend", "backend"),
    (
        "State",
        lambda c: " ".join(
            filter(
                None, [(c.get("status") or {}).get("state") or c.get("state"), (c.get("status") or {}).get("nodes_up")]
            )
        ),
    ),
    ("Size", lambda c: c.get("size_label") or c.get("size")),
    ("Nodes", lambda c: (c.get("nodes") or {}).get("total")),
    ("Description", "description"),
]


def register(groups, common) -> None:
    actions = add_group(groups, "compute", "Compute targets: where jobs run.")
    add_command(actions, "list", cmd_list, common, "List compute targets.")
    for name, func, text in (
        ("show", cmd_show, "Show a compute target."),
        ("start", cmd_start, "Start a compute target (an instance, or a cluster's nodes)."),
        ("stop", cmd_stop, "Stop a compute target."),
        ("delete", cmd_delete, "Delete a compute target."),
    ):
        parser = add_command(actions, name, func, common, text)
        add_name_arguments(parser)
        if name == "delete":
            parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    create = add_command(actions, "create", cmd_create, common, "Create a compute target from a YAML file.")
    create.add_argument("-f", "--file", help="an Azure ML CLI v2 compute YAML file")
    create.add_argument("-n", "--name", help="override the file's name")
    create.add_argument("--type", help="override the file's type")
    create.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")
    update = add_command(
        actions, "update", cmd_update, common, "Change a compute target (like `az ml compute update`)."
    )
    add_name_arguments(update)
    update.add_argument("--min-instances", type=int, help="nodes kept up even when nothing runs (clusters)")
    update.add_argument("--max-instances", type=int, help="at most this many nodes, one job each (clusters)")
    update.add_argument(
        "--idle-time-before-scale-down", type=int, metavar="SECONDS", help="idle seconds before a node is stopped"
    )
    update.add_argument("--description")
    update.add_argument("--size", help="an Azure VM size name, e.g. Standard_DS2_v2")
    update.add_argument("--tags", nargs="+", metavar="KEY=VALUE", help="tags to add or change (others are kept)")
    update.add_argument("--set", action="append", metavar="KEY=VALUE", help="set any other key of the compute")


def _name(ctx: Context) -> str:
    return name_from_args(ctx.args, "compute")


def cmd_list(ctx: Context) -> int:
    emit(ctx.client.list_all(ctx.ws_path("computes")), ctx.output, COLUMNS)
    return 0


def cmd_show(ctx: Context) -> int:
    emit(ctx.client.get(ctx.ws_path("computes", _name(ctx))), ctx.output)
    return 0


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    body: dict = {}
    spec = None
    if args.file:
        spec = SpecFile(args.file)
        apply_sets(spec.data, args.set)
        body = simple_body(spec, spec.data, schemas.keys(ctx.client, schemas.COMPUTE))
    elif args.set:
        apply_sets(body, args.set)
    if args.name:
        body["name"] = args.name
    if args.type:
        body["type"] = args.type
    if not body.get("name"):
        raise CLIError("The compute needs a name: `name:` in --file, or --name.")
    created = ctx.client.post(ctx.ws_path("computes"), json=body)
    report_notices(spec, created)
    emit(created, ctx.output)
    return 0


UPDATE_OPTIONS = ("min_instances", "max_instances", "idle_time_before_scale_down", "description", "size")


def cmd_update(ctx: Context) -> int:
    args = ctx.args
    name = _name(ctx)
    body: dict = {}
    apply_sets(body, args.set)
    for key in UPDATE_OPTIONS:
        value = getattr(args, key)
        if value is not None:
            body[key] = value
    if args.tags:
        current = ctx.client.get(ctx.ws_path("computes", name)).get("tags") or {}
        body["tags"] = {**current, **parse_tags(args.tags)}
    if not body:
        raise CLIError(
            "Nothing to change: give --min-instances, --max-instances, --idle-time-before-scale-down, "
            "--description, --size, --tags or --set KEY=VALUE."
        )
    emit(ctx.client.patch(ctx.ws_path("computes", name), json=body), ctx.output)
    return 0


def _action(ctx: Context, verb: str) -> int:
    name = _name(ctx)
    answer = ctx.client.post(ctx.ws_path("computes", name, verb))
    if ctx.output == "table":
        message = answer.get("state_message") or ""
        info(
            f"{answer.get('name', name)}: {answer.get('state', verb + ' requested')}"
            + (f" ({message})" if message else "")
        )
    else:
        emit(answer, ctx.output)
    return 0


def cmd_start(ctx: Context) -> int:
    return _action(ctx, "start")


def cmd_stop(ctx: Context) -> int:
    return _action(ctx, "stop")


def cmd_delete(ctx: Context) -> int:
    name = _name(ctx)
    if not ctx.args.yes and sys.stdin.isatty():
        answer = input(f"Delete compute {name!r} in workspace {ctx.workspace!r}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            info("Nothing deleted.")
            return 1
    ctx.client.delete(ctx.ws_path("computes", name))
    info(f"Deleted compute {name}.")
    return 0
