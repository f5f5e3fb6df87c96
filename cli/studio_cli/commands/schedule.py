"""`studio schedule create|list|show|enable|disable|delete`: Azure ML schedule YAML files.

`create_job` may name a job file next to the schedule (`./train-job.yml`): it is read here, its
code folder and local inputs uploaded like `studio job create` does, and sent inline; an inline
job is prepared the same way; `azureml:<job name>` copies a job of the workspace (on the server).
"""

from __future__ import annotations

from studio_cli import schemas
from studio_cli.commands import add_command, add_group, add_name_arguments, name_from_args
from studio_cli.commands.job import at_line, job_request
from studio_cli.context import Context
from studio_cli.errors import ApiError, CLIError
from studio_cli.output import emit, info
from studio_cli.specs import plain
from studio_cli.yamlfile import SpecFile, apply_sets, check_keys

COLUMNS = [
    ("Name", "name"),
    ("Enabled", lambda s: "yes" if s.get("is_enabled") else "paused"),
    ("Trigger", "trigger_description"),
    ("Next run", lambda s: (s.get("next_run_times") or ["—"])[0]),
    ("Created by", "created_by"),
]


def register(groups, common) -> None:
    actions = add_group(groups, "schedule", "Schedules: submit a job on a cron expression or a recurrence.")
    create = add_command(actions, "create", cmd_create, common, "Create a schedule from a YAML file.")
    create.add_argument("-f", "--file", required=True, help="an Azure ML schedule YAML file")
    create.add_argument("-n", "--name", help="override the file's name")
    create.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key, e.g. trigger.interval=2")
    add_command(actions, "list", cmd_list, common, "List schedules.")
    for name, func, text in (
        ("show", cmd_show, "Show a schedule, its next run times and the jobs it made."),
        ("enable", cmd_enable, "Resume a paused schedule."),
        ("disable", cmd_disable, "Pause a schedule: it submits nothing until enabled."),
        ("delete", cmd_delete, "Delete a schedule (the jobs it made are kept)."),
    ):
        add_name_arguments(add_command(actions, name, func, common, text))


def _name(ctx: Context) -> str:
    return name_from_args(ctx.args, "schedule")


def cmd_create(ctx: Context) -> int:
    args = ctx.args
    spec = SpecFile(args.file)
    apply_sets(spec.data, args.set)
    check_keys(spec, spec.data, schemas.keys(ctx.client, schemas.SCHEDULE))
    body = {k: plain(v) for k, v in spec.data.items() if k != "$schema"}
    if args.name:
        body["name"] = args.name
    if not body.get("name"):
        raise CLIError(f"{spec.name}: the schedule needs a name (or pass --name).")
    job = spec.data.get("create_job")
    job_spec = spec
    if isinstance(job, str) and not job.strip().startswith("azureml:"):
        job_spec = SpecFile(spec.local_path(spec.data, "create_job"))
        body["create_job"] = job_request(ctx, job_spec, job_spec.data)
    elif isinstance(job, dict):
        body["create_job"] = job_request(ctx, spec, job)
    try:
        answer = ctx.client.post(ctx.ws_path("schedules"), json=body)
    except ApiError as exc:
        raise at_line(spec, exc) from None
    if ctx.output == "table":
        emit({k: answer.get(k) for k in ("name", "trigger_description", "is_enabled", "next_run_times")}, "table")
    else:
        emit(answer, ctx.output)
    return 0


def cmd_list(ctx: Context) -> int:
    emit(ctx.client.get(ctx.ws_path("schedules")), ctx.output, COLUMNS)
    return 0


def cmd_show(ctx: Context) -> int:
    emit(ctx.client.get(ctx.ws_path("schedules", _name(ctx))), ctx.output)
    return 0


def _toggle(ctx: Context, verb: str, said: str) -> int:
    name = _name(ctx)
    answer = ctx.client.post(ctx.ws_path("schedules", name, verb))
    if ctx.output == "table":
        info(f"{name}: {said}")
    else:
        emit(answer, ctx.output)
    return 0


def cmd_enable(ctx: Context) -> int:
    return _toggle(ctx, "enable", "enabled")


def cmd_disable(ctx: Context) -> int:
    return _toggle(ctx, "disable", "paused")


def cmd_delete(ctx: Context) -> int:
    name = _name(ctx)
    ctx.client.delete(ctx.ws_path("schedules", name))
    info(f"{name}: deleted")
    return 0
