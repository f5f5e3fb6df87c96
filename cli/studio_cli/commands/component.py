"""`studio component create|list|show|archive`: command components (versioned pipeline steps)."""

from __future__ import annotations

from studio_cli import schemas
from studio_cli.commands import add_group
from studio_cli.commands.assets import apply_name_version, register_create_archive, register_list_show
from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import emit
from studio_cli.specs import as_json, component_body, report_notices
from studio_cli.uploads import upload_zipped_folder
from studio_cli.yamlfile import SpecFile, apply_sets

COLUMNS = [
    ("Name", "name"),
    ("Version", "version"),
    ("Display name", "display_name"),
    ("Environment", "environment"),
    ("Deterministic", lambda c: "yes" if c.get("is_deterministic") else "no"),
    ("Created", "created_at"),
]


def register(groups, common) -> None:
    actions = add_group(groups, "component", "Components: reusable, versioned pipeline steps.")
    register_list_show(actions, common, "components", COLUMNS, what="components")
    register_create_archive(
        actions, common, "components", cmd_create, what="a component", yaml_kind="command component"
    )


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    spec = SpecFile(args.file)
    apply_sets(spec.data, args.set)
    prepared = component_body(spec, spec.data, schemas.for_server(ctx.client))
    body = prepared.body
    apply_name_version(body, args)
    name = body.get("name")
    if not name:
        raise CLIError(f"{spec.name}: the component needs a name (or pass --name).")
    path = ctx.ws_path("components", name, "versions")
    if "code" in prepared.uploads:
        created = upload_zipped_folder(
            ctx.client,
            path,
            prepared.uploads["code"],
            what="Code",
            label="Uploading code",
            filename="code.zip",
            field="code",
            fields={"spec": as_json(body)},
        )
    else:
        created = ctx.client.post(path, json=body)
    report_notices(spec, created)
    emit(created, ctx.output)
    return 0
