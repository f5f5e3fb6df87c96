"""The Azure ML schedule YAML (`$schema …/schedule.schema.json`), validated with file:line errors.

    name, display_name, description, tags
    trigger:     type: cron (expression, time_zone, start_time, end_time)
                 or type: recurrence (frequency, interval, schedule: hours/minutes/week_days/month_days, …)
    create_job:  an inline job mapping (the CLI puts a job file's contents here, its code uploaded
                 first), or `azureml:<job name>`: a copy of an existing job of the workspace

`parse_schedule` checks the keys against schedules.schema.JobScheduleSpec and returns a
`ScheduleSpec` whose `job_spec` is the mapping each firing submits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from jobs import children, integrations
from jobs.models import CodeSnapshot, Job, JobType
from jobs.models.job import job_name_validator
from jobs.services.submit import CODE_ID
from jobs.spec import parse_job_spec
from schedules.schema import JobScheduleSpec
from schedules.triggers import Trigger, parse_trigger, where
from studio.models import Workspace
from studio.schema import refuse_unknown_keys
from studio.tags import clean_tags
from sweeps.spec import parse_sweep_spec

JOB_REFERENCE = re.compile(r"^azureml:(?:.*/jobs/)?([A-Za-z0-9][A-Za-z0-9_-]{0,99})$")
# What a job keeps on its inputs and outputs after a run: not part of what was asked for.
RESOLVED_KEYS = {"uri", "asset", "resolved"}


@dataclass
class ScheduleSpec:
    name: str
    trigger: Trigger | None  # None in a partial update that leaves it
    job_spec: dict
    job_type: str
    create_job: str = ""
    display_name: str = ""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


def _refuse(key: str, message: str) -> ValidationError:
    return ValidationError({key: [message]})


def parse_name(data: Any, source: str) -> str:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _refuse("name", f"{source}: a schedule needs a name.")
    try:
        job_name_validator(name.strip())
    except ValidationError as exc:
        raise _refuse("name", f"{where(data, 'name', source)}: {exc.messages[0]}") from None
    return name.strip()


def parse_schedule(
    data: Any, workspace: Workspace, *, actor, source: str = "schedule", partial: bool = False
) -> ScheduleSpec:
    """Validate a schedule mapping (YAML-loaded or JSON). With `partial`, only the keys given are
    checked (`name` is not required) and absent ones come back empty."""
    if not isinstance(data, dict):
        raise _refuse("spec", f"{source}: a schedule is a mapping with name, trigger and create_job.")
    refuse_unknown_keys(JobScheduleSpec(partial=partial, context={"source": source}), data, source=source)
    name = "" if partial else parse_name(data, source)
    if not partial:
        for key in ("trigger", "create_job"):
            if data.get(key) in (None, "", {}):
                raise _refuse(key, f"{source}: a schedule needs {key}.")
    display_name = data.get("display_name") or ""
    description = data.get("description") or ""
    if not isinstance(display_name, str) or len(display_name) > 255:
        raise _refuse(
            "display_name", f"{where(data, 'display_name', source)}: display_name is text of ≤ 255 characters."
        )
    if not isinstance(description, str) or len(description) > 5000:
        raise _refuse("description", f"{where(data, 'description', source)}: description is text of ≤ 5000 characters.")
    spec = ScheduleSpec(
        name=name,
        trigger=parse_trigger(data["trigger"], source=source) if "trigger" in data else None,
        job_spec={},
        job_type="",
        display_name=display_name.strip(),
        description=description,
        tags=clean_tags(data.get("tags") or {}),
    )
    if "create_job" in data:
        spec.job_spec, spec.create_job = resolve_create_job(
            data["create_job"], workspace, actor=actor, source=source, at=where(data, "create_job", source)
        )
        spec.job_type = str(spec.job_spec.get("type") or "command")
    return spec


def resolve_create_job(value: Any, workspace: Workspace, *, actor, source: str, at: str = "") -> tuple[dict, str]:
    """(the job mapping to submit, the `azureml:<job>` it was copied from or ""). `source` names
    the file (keys inside an inline job add their own line), `at` the create_job key's line."""
    at = at or source
    if isinstance(value, str):
        match = JOB_REFERENCE.match(value.strip())
        if not match:
            raise _refuse(
                "create_job",
                f"{at}: {value!r} is a path: the studio CLI reads job files (studio schedule create --file); "
                "through the API send the job itself, or azureml:<job name> to copy an existing job.",
            )
        job = Job.objects.filter(workspace=workspace, name=match[1]).select_related("code", "experiment").first()
        if job is None:
            raise _refuse("create_job", f"{at}: there is no job {match[1]!r} in workspace {workspace.name!r} to copy.")
        return job_as_spec(job, source=at), f"azureml:{job.name}"
    if not isinstance(value, dict):
        raise _refuse("create_job", f"{at}: create_job is a job (a mapping) or azureml:<job name>.")
    data = {k: v for k, v in value.items() if k not in ("name", "$schema")}  # each firing names its own job
    check_job(data, workspace, actor=actor, source=source)
    return data, ""


def check_job(data: dict, workspace: Workspace, *, actor, source: str) -> None:
    """What can be known now about a job a schedule will submit later: its shape, its code
    snapshot, environment and compute. (Each firing submits it through the normal path, which
    checks everything again.)"""
    kind = data.get("type", "command")
    if kind == JobType.SWEEP:
        parse_sweep_spec(data, source=source)
        code = (data.get("trial") or {}).get("code")
    elif kind == "command":
        spec = parse_job_spec(data, source=source)
        errors: dict[str, list[str]] = {}
        for check in (
            lambda: integrations.resolve_environment(workspace, spec.environment, actor=actor),
            lambda: integrations.find_compute(workspace, spec.compute),
        ):
            try:
                check()
            except ValidationError as exc:
                for key, messages in (
                    exc.message_dict if hasattr(exc, "error_dict") else {"spec": exc.messages}
                ).items():
                    errors.setdefault(f"create_job.{key}", []).extend(f"{source}: {m}" for m in messages)
        if errors:
            raise ValidationError(errors)
        code = spec.code
    elif (handler := children.handler_for(str(kind))) is None:
        raise _refuse(
            "create_job.type", f"{where(data, 'type', source)}: Studio cannot schedule jobs of type {kind!r}."
        )
    else:  # a pipeline (…): its app checks it now, through the jobs.children hook, creating nothing
        if handler.validate is not None:
            try:
                handler.validate(workspace, actor=actor, data=data, source=source)
            except ValidationError as exc:
                raise ValidationError(
                    {
                        f"create_job.{key}": [f"{source}: {m}" for m in messages]
                        for key, messages in (
                            exc.message_dict if hasattr(exc, "error_dict") else {"spec": exc.messages}
                        ).items()
                    }
                ) from None
        code = data.get("code")
    if code:
        match = CODE_ID.match(str(code))
        if match is None:
            raise _refuse(
                "create_job.code",
                f"{where(data, 'code', source)}: {code!r} is a local path: upload the folder with POST /codes/ "
                "and give the id it returns (the studio CLI does this).",
            )
        if not CodeSnapshot.objects.filter(workspace=workspace, hash=match[1]).exists():
            raise _refuse("create_job.code", f"{source}: no code snapshot {match[1][:12]}… in this workspace.")


def _requested(items: dict) -> dict:
    return {key: {k: v for k, v in item.items() if k not in RESOLVED_KEYS} for key, item in (items or {}).items()}


def job_as_spec(job: Job, *, source: str) -> dict:
    """A command job as the job mapping that submits it again (what was asked for, not what the
    run added): Azure ML's `create_job: azureml:<job>`."""
    if job.type != JobType.COMMAND or job.parent_id:
        raise _refuse(
            "create_job",
            f"{source}: {job.name} is a {job.type} job{' step' if job.parent_id else ''}: Studio copies command "
            "jobs; give this job's YAML instead.",
        )
    environment = job.environment_ref
    if environment == "inline" or not environment:
        environment = f"azureml:{job.environment_name}:{job.environment_version_label}"
    spec: dict[str, Any] = {
        "type": "command",
        "command": job.command,
        "environment": environment,
        "compute": job.compute_name,
        "experiment_name": job.experiment.name,
        "display_name": job.display_name,
        "description": job.description,
        "tags": dict(job.tags or {}),
        "inputs": _requested(job.inputs),
        "outputs": _requested(job.outputs),
        "environment_variables": dict(job.environment_variables or {}),
    }
    if job.code is not None:
        spec["code"] = job.code.hash
    if job.resources:
        spec["resources"] = {k: v for k, v in job.resources.items() if k in ("cpu", "memory", "instance_count")}
    if job.timeout_seconds:
        spec["limits"] = {"timeout": job.timeout_seconds}
    return spec
