"""Pieces shared by the versioned asset commands (`environment`, `data`): the same REST shape,
`<kind>/` for the latest of each and `<kind>/<name>/versions/<v>/` for one version."""

from __future__ import annotations

from studio_cli.commands import add_command
from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import emit, info
from studio_cli.refs import AssetRef, parse_ref


def add_ref_arguments(parser) -> None:
    parser.add_argument("ref", nargs="?", metavar="NAME", help="name, name:version or name@latest")
    parser.add_argument("-n", "--name", help="asset name")
    parser.add_argument("-v", "--version", help="version (default: the latest)")
    parser.add_argument("-l", "--label", choices=["latest"], help="label instead of a version")


def ref_from_args(ctx: Context) -> AssetRef:
    text = ctx.args.name or ctx.args.ref
    if not text:
        raise CLIError("Which one? Give NAME (or --name NAME).")
    return parse_ref(text, version=ctx.args.version, label=ctx.args.label)


def register_list_show(actions, common, kind: str, columns, *, what: str):
    def cmd_list(ctx: Context) -> int:
        if ctx.args.name:
            items = ctx.client.list_all(ctx.ws_path(kind, ctx.args.name, "versions"))
        else:
            params = {}
            if getattr(ctx.args, "curated", None) is not None:
                params["curated"] = ctx.args.curated
            items = ctx.client.list_all(ctx.ws_path(kind), params)
        emit(items, ctx.output, columns)
        return 0

    def cmd_show(ctx: Context) -> int:
        ref = ref_from_args(ctx)
        emit(ctx.client.get(ctx.ws_path(kind, ref.name, "versions", ref.version_or_latest)), ctx.output)
        return 0

    listing = add_command(actions, "list", cmd_list, common, f"List {what} (the latest version of each).")
    listing.add_argument("-n", "--name", help="list every version of this one")
    show = add_command(
        actions, "show", cmd_show, common, f"Show one version of {what[:-1] if what.endswith('s') else what}."
    )
    add_ref_arguments(show)
    return listing, show


def register_create_archive(actions, common, kind: str, cmd_create, *, what: str, yaml_kind: str) -> None:
    """`create -f FILE [-n] [-v] [--set]` and `archive NAME[:VERSION]`, the same for every asset kind."""
    create = add_command(actions, "create", cmd_create, common, f"Create {what} version from a YAML file.")
    create.add_argument("-f", "--file", required=True, help=f"an Azure ML CLI v2 {yaml_kind} YAML file")
    create.add_argument("-n", "--name", help="override the file's name")
    create.add_argument("-v", "--version", help="override the file's version (default: the next number)")
    create.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")
    arch = add_command(
        actions, "archive", lambda ctx: archive(ctx, kind), common, "Archive a version (or every version)."
    )
    add_ref_arguments(arch)


def apply_name_version(body: dict, args) -> None:
    """`--name` / `--version` win over the file; a version is always sent as a string."""
    if args.name:
        body["name"] = args.name
    if args.version:
        body["version"] = args.version
    if body.get("version") is not None:
        body["version"] = str(body["version"])


def archive(ctx: Context, kind: str) -> int:
    """DELETE archives a version; without --version every version is archived, as az does."""
    ref = ref_from_args(ctx)
    if ref.version and ref.version != "latest":
        versions = [ref.version]
    else:
        if ref.version == "latest":
            versions = [ctx.client.get(ctx.ws_path(kind, ref.name, "versions", "latest"))["version"]]
        else:
            versions = [v["version"] for v in ctx.client.list_all(ctx.ws_path(kind, ref.name, "versions"))]
    for version in versions:
        ctx.client.delete(ctx.ws_path(kind, ref.name, "versions", version))
        info(f"Archived {ref.name}:{version}")
    return 0
