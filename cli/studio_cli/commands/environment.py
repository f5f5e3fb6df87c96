"""`studio environment list|show|create|archive`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from studio_cli.commands import add_command, add_group
from studio_cli.commands.assets import add_ref_arguments, archive, register_list_show
from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import emit, info
from studio_cli.packaging import zip_folder
from studio_cli.specs import as_json, environment_body, report_notices
from studio_cli.uploads import upload_file
from studio_cli.yamlfile import SpecFile, apply_sets

COLUMNS = [
    ("Name", "name"),
    ("Version", lambda e: e.get("latest_version") or e.get("version")),
    ("Kind", "kind"),
    ("Image", lambda e: e.get("image") or ("(build context)" if e.get("build") else "")),
    ("Curated", lambda e: "yes" if e.get("curated") else ""),
    ("Description", "description"),
]


def register(groups, common) -> None:
    actions = add_group(groups, "environment", "Environments: where code runs (image, conda file or build context).")
    listing, _ = register_list_show(actions, common, "environments", COLUMNS, what="environments")
    listing.add_argument(
        "--curated", choices=["true", "false"], help="only curated (true) or only your workspace's (false)"
    )
    create = add_command(actions, "create", cmd_create, common, "Create an environment version from a YAML file.")
    create.add_argument("-f", "--file", required=True, help="an Azure ML CLI v2 environment YAML file")
    create.add_argument("-n", "--name", help="override the file's name")
    create.add_argument("-v", "--version", help="override the file's version (default: the next number)")
    create.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")
    arch = add_command(actions, "archive", cmd_archive, common, "Archive a version (or every version).")
    add_ref_arguments(arch)


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    spec = SpecFile(args.file)
    apply_sets(spec.data, args.set)
    prepared = environment_body(spec, spec.data)
    body = prepared.body
    if args.name:
        body["name"] = args.name
    if args.version:
        body["version"] = str(args.version)
    name = body.get("name")
    if not name:
        raise CLIError(f"{spec.name}: the environment needs a name (or pass --name).")
    path = ctx.ws_path("environments", name, "versions")
    if "build" in prepared.uploads:
        with tempfile.TemporaryDirectory(prefix="studio-build-") as tmp:
            packed = zip_folder(prepared.uploads["build"], Path(tmp) / "context.zip")
            info(f"Build context: {packed.files} files from {prepared.uploads['build']}")
            created = upload_file(
                ctx.client,
                path,
                packed.path,
                label="Uploading build context",
                fields={"spec": as_json(body)},
                field="context",
                filename="context.zip",
            )
    else:
        created = ctx.client.post(path, json=body)
    report_notices(spec, created)
    emit(created, ctx.output)
    return 0


def cmd_archive(ctx: Context) -> int:
    return archive(ctx, "environments")
