"""`studio job create|list|show|stream|cancel|download`."""

from __future__ import annotations

from pathlib import Path

from studio_cli import schemas
from studio_cli.commands import add_command, add_group, add_name_arguments, name_from_args
from studio_cli.context import Context
from studio_cli.datafiles import upload_to_default_datastore
from studio_cli.errors import ApiError, CLIError
from studio_cli.jobfiles import download_outputs
from studio_cli.output import emit, info
from studio_cli.specs import job_body
from studio_cli.streaming import follow, follow_pipeline, follow_sweep, job_link
from studio_cli.uploads import upload_zipped_folder
from studio_cli.yamlfile import SpecFile, apply_sets

COLUMNS = [
    ("Name", "name"),
    ("Display name", "display_name"),
    ("Status", "status"),
    ("Experiment", "experiment_name"),
    ("Compute", "compute"),
    ("Created", "created_at"),
]
SUMMARY = ["name", "display_name", "status", "experiment_name", "compute", "environment", "command", "created_at"]


def register(groups, common) -> None:
    actions = add_group(groups, "job", "Command jobs: run code on a compute target.")
    create = add_command(actions, "create", cmd_create, common, "Submit a job from a YAML file.")
    create.add_argument("-f", "--file", required=True, help="an Azure ML CLI v2 command job YAML file")
    create.add_argument("-n", "--name", help="the job's name (default: generated)")
    create.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key, e.g. inputs.lr=0.1")
    create.add_argument("-s", "--stream", action="store_true", help="follow the log; exit with the job's outcome")

    listing = add_command(actions, "list", cmd_list, common, "List jobs (newest first).")
    listing.add_argument("--status", help="only jobs in this status (e.g. Running)")
    listing.add_argument("--experiment", help="only jobs of this experiment")
    listing.add_argument("--compute", help="only jobs on this compute target")
    listing.add_argument("--created-by", help="only jobs submitted by this user")
    listing.add_argument("-r", "--max-results", type=int, default=50, help="at most this many (default 50)")

    for name, func, text in (
        ("show", cmd_show, "Show a job."),
        ("stream", cmd_stream, "Follow a job's log until it ends; exit with its outcome."),
        ("cancel", cmd_cancel, "Cancel a job."),
        ("download", cmd_download, "Download a job's outputs."),
    ):
        parser = add_command(actions, name, func, common, text)
        add_name_arguments(parser)
        if name == "download":
            parser.add_argument("--output-name", help="only this named output (default: the job's outputs/ folder)")
            parser.add_argument("-p", "--download-path", default=".", help="where to save (default: .)")
            parser.add_argument("--all", action="store_true", help="every output, named or not")


def _name(ctx: Context) -> str:
    return name_from_args(ctx.args, "job")


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    spec = SpecFile(args.file)
    apply_sets(spec.data, args.set)
    body = job_request(ctx, spec, spec.data)
    if args.name:
        body["name"] = args.name
    try:
        job = ctx.client.post(ctx.ws_path("jobs"), json=body)
    except ApiError as exc:
        raise (at_line(spec, exc) if body.get("type") in ("sweep", "pipeline") else exc) from None
    if ctx.output == "table":
        emit({k: job.get(k) for k in SUMMARY if k in job} | {"link": job_link(ctx, job)}, "table")
    else:
        emit(job, ctx.output)
    if args.stream:
        return _follow(ctx, job["name"], job.get("type"))
    return 0


def _follow(ctx: Context, name: str, kind: str | None) -> int:
    """Follow a job the way its type is best watched: a pipeline by its steps, a sweep by its
    trials, a command job by its log."""
    if kind == "pipeline":
        return follow_pipeline(ctx, name)
    if kind == "sweep":
        return follow_sweep(ctx, name)
    return follow(ctx, name)


def job_request(ctx: Context, spec: SpecFile, data: dict) -> dict:
    """The body that submits the job `data` (read from `spec`'s file): its code folders uploaded
    as snapshots and its local inputs uploaded to the default datastore first."""
    prepared = job_body(spec, data, schemas.for_server(ctx.client))
    body = prepared.body
    if "environment.build" in prepared.uploads:
        raise CLIError(
            f"{spec.name}: an inline environment with a local build context is not supported; "
            "create it with `studio environment create` and refer to it by name."
        )
    for what, local in prepared.uploads.items():
        if what.startswith("jobs."):  # a pipeline step's code, or its component file's
            parts = what.split(".")
            target = body["jobs"][parts[1]]
            (target[parts[2]] if len(parts) == 3 else target)["code"] = _upload_code(ctx, local)
        elif what == "code":  # a sweep's code is its trial's
            (body["trial"] if body.get("type") == "sweep" else body)["code"] = _upload_code(ctx, local)
        else:  # inputs.<name>
            key = what.split(".", 1)[1]
            body["inputs"][key]["path"] = upload_to_default_datastore(ctx, local)
    return body


def at_line(spec: SpecFile, exc: ApiError) -> ApiError:
    """The server's field errors (`search_space.lr.min_value: ...`) with the file and line of the
    deepest key of the field path found in the YAML."""
    if not exc.errors:
        return exc
    errors = {}
    for field_path, messages in exc.errors.items():
        mapping, where = spec.data, ""
        for key in str(field_path).split("."):
            if not isinstance(mapping, dict) or key not in mapping:
                break
            where = spec.where(mapping, key)
            mapping = mapping[key]
        errors[f"{where}: {field_path}" if where else field_path] = messages
    detail = "; ".join(
        f"{field}: {m}" for field, msgs in errors.items() for m in (msgs if isinstance(msgs, list) else [msgs])
    )
    return ApiError(exc.status, detail, errors)


def _upload_code(ctx: Context, local: Path) -> str:
    answer = upload_zipped_folder(
        ctx.client, ctx.ws_path("codes"), local, what="Code", label="Uploading code", filename="code.zip"
    )
    return str(answer["id"])


def cmd_list(ctx: Context) -> int:
    args = ctx.args
    filters = {
        "status": args.status,
        "experiment": args.experiment,
        "compute": args.compute,
        "created_by": args.created_by,
    }
    params = {k: v for k, v in filters.items() if v}
    emit(ctx.client.list_all(ctx.ws_path("jobs"), params, limit=args.max_results), ctx.output, COLUMNS)
    return 0


def cmd_show(ctx: Context) -> int:
    emit(ctx.client.get(ctx.ws_path("jobs", _name(ctx))), ctx.output)
    return 0


def cmd_stream(ctx: Context) -> int:
    name = _name(ctx)
    return _follow(ctx, name, ctx.client.get(ctx.ws_path("jobs", name)).get("type"))


def cmd_cancel(ctx: Context) -> int:
    name = _name(ctx)
    job = ctx.client.post(ctx.ws_path("jobs", name, "cancel"))
    if ctx.output == "table":
        info(f"{name}: {(job or {}).get('status', 'cancel requested')}")
    else:
        emit(job, ctx.output)
    return 0


def cmd_download(ctx: Context) -> int:
    args = ctx.args
    return download_outputs(
        ctx, _name(ctx), Path(args.download_path), output_name=args.output_name, everything=args.all
    )
