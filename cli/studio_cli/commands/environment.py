"""`studio environment list|show|create|archive`."""

from __future__ import annotations

from studio_cli import schemas
from studio_cli.commands import add_group
from studio_cli.commands.assets import apply_name_version, register_create_archive, register_list_show
from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import emit
from studio_cli.specs import as_json, environment_body, report_notices
from studio_cli.uploads import upload_zipped_folder
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
    register_create_archive(actions, common, "environments", cmd_create, what="an environment", yaml_kind="environment")


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    spec = SpecFile(args.file)
    apply_sets(spec.data, args.set)
    prepared = environment_body(spec, spec.data, schemas.for_server(ctx.client))
    body = prepared.body
    apply_name_version(body, args)
    name = body.get("name")
    if not name:
        raise CLIError(f"{spec.name}: the environment needs a name (or pass --name).")
    path = ctx.ws_path("environments", name, "versions")
    if "build" in prepared.uploads:
        created = upload_zipped_folder(
            ctx.client,
            path,
            prepared.uploads["build"],
            what="Build context",
            label="Uploading build context",
            filename="context.zip",
            field="context",
            fields={"spec": as_json(body)},
        )
    else:
        created = ctx.client.post(path, json=body)
    report_notices(spec, created)
    emit(created, ctx.output)
    return 0
