"""`studio model list|show|create|download|archive`: models, as `az ml model` has them. A local
`path:` (a folder, a file or a .zip) is uploaded with the create request; `runs:/…`,
`azureml://jobs/…` and `azureml://datastores/…` paths are registered on the server."""

from __future__ import annotations

import json
from pathlib import Path

from studio_cli import schemas
from studio_cli.commands import add_command, add_group
from studio_cli.commands.assets import apply_name_version, register_create_archive
from studio_cli.context import Context
from studio_cli.datafiles import file_parts
from studio_cli.errors import ApiError, CLIError, SpecError
from studio_cli.jobfiles import download_files
from studio_cli.output import emit, info
from studio_cli.refs import is_remote
from studio_cli.specs import simple_body
from studio_cli.uploads import upload_files
from studio_cli.yamlfile import SpecFile, apply_sets

COLUMNS = [
    ("Name", "name"),
    ("Version", "version"),
    ("Type", "type"),
    ("Stage", "stage"),
    ("Aliases", "aliases"),
    ("Job", "job"),
    ("Created", "created_at"),
]


def register(groups, common) -> None:
    actions = add_group(groups, "model", "Models: versioned trained models with their files and lineage.")
    listing = add_command(actions, "list", cmd_list, common, "List models (the latest version of each).")
    listing.add_argument("-n", "--name", help="list every version of this model")
    listing.add_argument("--tag", help="only models tagged KEY or KEY=VALUE")
    show = add_command(actions, "show", cmd_show, common, "Show one model version (name:version, name@alias).")
    _add_model_ref(show)
    register_create_archive(actions, common, "models", cmd_create, what="a model", yaml_kind="model")
    download = add_command(actions, "download", cmd_download, common, "Download a model version's files.")
    _add_model_ref(download)
    download.add_argument(
        "-p", "--download-path", default=".", help="where to save; files go to <path>/<name>/ (default: .)"
    )


def _add_model_ref(parser) -> None:
    parser.add_argument("ref", nargs="?", metavar="NAME", help="name, name:version, name@latest or name@<alias>")
    parser.add_argument("-n", "--name", help="model name")
    parser.add_argument("-v", "--version", help="version (default: the latest)")
    parser.add_argument("-l", "--label", help="latest, or an alias such as champion")


def _resolve(ctx: Context) -> dict:
    """The version the arguments name, as the server describes it."""
    args = ctx.args
    text = args.name or args.ref
    if not text:
        raise CLIError("Which model? Give NAME (or --name NAME).")
    text = text[len("azureml:") :] if text.startswith("azureml:") else text
    name, version, label = text, args.version, args.label
    if "@" in text:
        name, label = text.split("@", 1)
    elif ":" in text:
        name, version = text.split(":", 1)
    if not name or "/" in name:
        raise CLIError(f"{text!r} is not a model reference: use name, name:version or name@<alias>.")
    if version and label:
        raise CLIError("Give a version or a label (alias), not both.")
    if label and label != "latest":
        aliases = ctx.client.get(ctx.ws_path("models", name)).get("aliases") or {}
        if label not in aliases:
            raise CLIError(f"Model {name} has no alias {label!r} (aliases: {', '.join(sorted(aliases)) or 'none'}).")
        version = aliases[label]
    return ctx.client.get(ctx.ws_path("models", name, "versions", version or "latest"))


def cmd_list(ctx: Context) -> int:
    if ctx.args.name:
        items = ctx.client.list_all(ctx.ws_path("models", ctx.args.name, "versions"))
    else:
        items = ctx.client.list_all(ctx.ws_path("models"), {"tag": ctx.args.tag} if ctx.args.tag else None)
    for item in items:
        item["aliases"] = ", ".join(item.get("aliases") or [])
    emit(items, ctx.output, COLUMNS)
    return 0


def cmd_show(ctx: Context) -> int:
    emit(_resolve(ctx), ctx.output)
    return 0


def _is_server_path(path: str) -> bool:
    return is_remote(path) or path.startswith("runs:/")


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    spec = SpecFile(args.file)
    apply_sets(spec.data, args.set)
    body = simple_body(spec, spec.data, schemas.keys(ctx.client, schemas.MODEL))
    apply_name_version(body, args)
    for ignored in ("stage", "flavors", "datastore", "job_name", "intellectual_property"):
        body.pop(ignored, None)
    name = body.get("name")
    if not name:
        raise SpecError(f"{spec.name}: the model needs a name (or pass --name).")
    if not body.get("path"):
        raise SpecError(f"{spec.name}: the model needs a path (a local folder or file, runs:/… or azureml://…).")
    try:
        if _is_server_path(str(body["path"])):
            created = ctx.client.post(ctx.ws_path("models", name, "versions"), json=body)
        else:
            local = spec.local_path(spec.data, "path")
            parts = file_parts(local)
            info(f"Uploading {len(parts)} file{'s' if len(parts) != 1 else ''} from {local}")
            created = upload_files(
                ctx.client,
                ctx.ws_path("models", name, "versions"),
                parts,
                label=f"Uploading {local.name}",
                fields={"spec": json.dumps({k: v for k, v in body.items() if k != "path"})},
            )
    except ApiError as exc:
        raise _located(spec, exc) from None
    emit(created, ctx.output)
    return 0


def _located(spec: SpecFile, exc: ApiError) -> CLIError:
    """The server's complaint about a key of the file, with the file and line of that key."""
    for field, messages in exc.errors.items():
        key = field.split(".", 1)[0]
        if key in spec.data:
            message = messages[0] if isinstance(messages, list) and messages else messages
            return CLIError(f"{spec.where(spec.data, key)}: {key}: {message}", exit_code=exc.exit_code)
    return exc


def cmd_download(ctx: Context) -> int:
    version = _resolve(ctx)
    name, label = version["name"], version["version"]
    base = ctx.ws_path("models", name, "versions", label, "files")
    files = ctx.client.get(base).get("files") or []
    if not files:
        raise CLIError(f"Model {name}:{label} has no files.")
    root = Path(ctx.args.download_path) / name
    download_files(ctx, files, root, lambda path: (base, {"path": path}))
    info(f"Downloaded {name}:{label} ({len(files)} files) to {root}")
    return 0
