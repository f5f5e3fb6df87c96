"""Submitting a job: the one path shared by the form, the REST API and CLI YAML."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from environments.models import EnvironmentVersion
from jobs import children, integrations
from jobs import code as code_store
from jobs.models import CodeSnapshot, Experiment, Job, JobEvent, JobStatus, RunTag
from jobs.names import generate_job_name
from jobs.runner.lifecycle import advance
from jobs.spec import JobSpec, parse_job_spec
from jobs.waits import queue_wait_reason
from studio import activity, logs, versioning
from studio.actor import Actor
from studio.errors import Conflict
from studio.models import Workspace

CODE_ID = re.compile(r"^(?:azureml:)?([0-9a-f]{64})$")


def do_create_code_snapshot(
    workspace: Workspace,
    *,
    actor: Actor | None,
    zip_file: IO[bytes] | None = None,
    files: Iterable[tuple[str, IO[bytes]]] | None = None,
) -> CodeSnapshot:
    """Store uploaded code (a zip, or (relative path, file) pairs of a folder) as a snapshot."""
    if zip_file is not None:
        snapshot = code_store.snapshot_from_zip(workspace, zip_file, actor=actor)
    elif files:
        snapshot = code_store.snapshot_from_files(workspace, files, actor=actor)
    else:
        raise ValidationError({"code": ["Upload the code as a zip file or a folder."]})
    activity.record(workspace, actor, "code.uploaded", snapshot.hash[:12], files=snapshot.file_count)
    return snapshot


def _code_for(workspace: Workspace, spec: JobSpec, code: CodeSnapshot | None) -> CodeSnapshot | None:
    if code is not None:
        return code
    if not spec.code:
        return None
    match = CODE_ID.match(spec.code)
    if not match:
        raise ValidationError(
            {
                "code": [
                    f"{spec.code!r} is a local path: send the folder as a zip (multipart field 'code'), "
                    "or upload it first with POST /codes/ and give the id it returns."
                ]
            }
        )
    found = CodeSnapshot.objects.filter(workspace=workspace, hash=match[1]).first()
    if found is None:
        raise ValidationError(
            {"code": [f"No code snapshot {match[1][:12]}… in this workspace: upload it with POST /codes/."]}
        )
    return found


def _experiment(workspace: Workspace, name: str, actor: Actor) -> Experiment:
    experiment = Experiment.objects.filter(workspace=workspace, name=name).first()
    if experiment is not None:
        return experiment
    experiment = Experiment(workspace=workspace, name=name, created_by=actor)
    try:
        experiment.full_clean(exclude=["workspace"], validate_unique=False)
    except ValidationError as exc:
        raise ValidationError({"experiment_name": exc.message_dict.get("name", exc.messages)}) from None
    try:
        with transaction.atomic():
            experiment.save()
    except IntegrityError:
        experiment = Experiment.objects.get(workspace=workspace, name=name)
    return experiment


def _name(workspace: Workspace, spec: JobSpec) -> str:
    if spec.name:
        job = Job(name=spec.name)
        try:
            job.clean_fields(exclude=[f.name for f in Job._meta.fields if f.name != "name"])
        except ValidationError as exc:
            raise ValidationError({"name": exc.message_dict.get("name", exc.messages)}) from None
        if Job.objects.filter(workspace=workspace, name=spec.name).exists():
            raise Conflict({"name": [f"A job named {spec.name!r} already exists in this workspace."]})
        return spec.name
    for _ in range(20):
        name = generate_job_name()
        if not Job.objects.filter(workspace=workspace, name=name).exists():
            return name
    raise Conflict({"name": ["Could not find a free job name; give one."]})


def experiment_for(workspace: Workspace, name: str, actor: Actor) -> Experiment:
    """The workspace's experiment `name`, created (validated) on first use."""
    return _experiment(workspace, name, actor)


def free_job_name(workspace: Workspace, name: str = "") -> str:
    """`name` when valid and free in the workspace (else a field error), or a generated one."""
    return _name(workspace, JobSpec(command="", environment="", name=name))


def _note_alias(job: Job, version: EnvironmentVersion) -> None:
    """An Azure ML curated name was answered by a Studio one: say which, in the job's timeline and
    at the top of its system log."""
    from environments.aliases import note
    from jobs.runner.execute import RUNNER_LOG

    message = note(version.alias_of, version.reference)
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.INFO, message=message, created_at=job.created_at)
    logs.append(job.log_stream(RUNNER_LOG), f"{job.created_at.isoformat(timespec='milliseconds')} {message}\n")


@dataclass(frozen=True)
class Pinned:
    """What an earlier job of the same parent resolved (its environment version and experiment),
    for a sibling with the same environment reference to reuse instead of resolving again (a
    sweep's next trial: three queries fewer while it waits)."""

    environment_ref: str
    environment_version: EnvironmentVersion
    experiment: Experiment


def pinned_from(sibling: Job) -> Pinned | None:
    """`sibling`'s resolution, or None when there is none to reuse: its environment version was
    deleted (resolving again then says why the new job cannot run), or its reference named an
    Azure ML curated environment (each job notes the alias, which resolving finds)."""
    version = sibling.environment_version
    if version is None or sibling.environment_ref == "inline":
        return None
    name, _ = versioning.parse_reference(sibling.environment_ref)
    if name != version.environment.name:
        return None
    return Pinned(sibling.environment_ref, version, sibling.experiment)


def enqueue(job: Job) -> None:
    """Send the run task to the job's compute queue (after the transaction commits)."""
    queue = integrations.queue_for(job)
    job_id = job.pk
    transaction.on_commit(lambda: send_run(job_id, queue))


def send_run(job_id: int, queue: str) -> None:
    from jobs.tasks import run_job

    run_job.apply_async(args=[job_id], queue=queue)


@transaction.atomic
def do_submit_job(
    workspace: Workspace,
    *,
    actor: Actor,
    data: dict,
    code: CodeSnapshot | None = None,
    source: str = "api",
    spec: JobSpec | None = None,
    parent: Job | None = None,
    pinned: Pinned | None = None,
    held: str = "",
) -> Job:
    """Validate `data` (a CLI-YAML/JSON job mapping), pin its environment, check the compute, store
    the job Queued, record the event, and enqueue the run when the transaction commits. Another
    `type:` (sweep, ...) goes to the handler its app registered (jobs.children). `pinned`: a
    sibling's environment version and experiment, used when `data` names the same environment
    and experiment (see `pinned_from`). `held`: the job is stored Not started, with this reason,
    and sent to its compute only by `do_release_job` (its parent's next child, made ready ahead)."""
    kind = data.get("type", "command") if spec is None and isinstance(data, dict) else "command"
    handler = children.handler_for(kind) if kind != "command" else None
    if handler is not None:
        return handler.submit(workspace, actor=actor, data=data, code=code, source=source)
    spec = spec or parse_job_spec(data, source="job YAML" if source == "yaml" else "job")
    snapshot = _code_for(workspace, spec, code)
    errors: dict[str, list[str]] = {}
    version = target = None
    if pinned is not None and (
        pinned.environment_ref != spec.environment or pinned.experiment.name != spec.experiment_name
    ):
        pinned = None
    try:
        if pinned is not None:
            version = pinned.environment_version
        else:
            version = integrations.resolve_environment(workspace, spec.environment, actor=actor)
    except ValidationError as exc:
        errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"environment": exc.messages})
    try:
        target = integrations.find_compute(workspace, spec.compute)
        integrations.check_can_accept(target, actor)
    except ValidationError as exc:
        errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"compute": exc.messages})
    inputs = {}
    for key, item in spec.inputs.items():
        if "value" in item:
            inputs[key] = item
            continue
        try:
            inputs[key] = integrations.resolve_input(workspace, key, item)
        except ValidationError as exc:
            errors.setdefault(f"inputs.{key}", []).extend(exc.messages)
    name = _name(workspace, spec)
    for key, item in spec.outputs.items():
        try:  # a bad or forbidden destination is refused now, not after the job has run
            integrations.check_output(item)
            integrations.check_output_access(workspace, actor=actor, job_name=name, output_name=key, item=item)
        except ValidationError as exc:
            errors.setdefault(f"outputs.{key}", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    assert version is not None and target is not None  # both found, else `errors` said why
    now = timezone.now()
    job = Job.objects.create(
        workspace=workspace,
        name=name,
        display_name=spec.display_name,
        description=spec.description,
        tags=spec.tags,
        experiment=pinned.experiment if pinned is not None else _experiment(workspace, spec.experiment_name, actor),
        status=JobStatus.NOT_STARTED if held else JobStatus.QUEUED,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        created_at=now,
        queued_at=None if held else now,
        code=snapshot,
        command=spec.command,
        environment_ref=spec.environment if isinstance(spec.environment, str) else "inline",
        environment_version=version,
        environment_name=version.environment.name,
        environment_version_label=version.version,
        compute=target,
        compute_name=target.name,
        backend=target.backend,
        inputs=inputs,
        outputs=spec.outputs,
        environment_variables=spec.environment_variables,
        resources=spec.resources,
        timeout_seconds=spec.timeout,
        max_retries=spec.max_retries,
        source=source,
        parent=parent,
    )
    # A job's `tags:` are its MLflow run tags (searchable with tags.<key>).
    RunTag.objects.bulk_create([RunTag(job=job, key=str(k)[:250], value=str(v)) for k, v in (spec.tags or {}).items()])
    who = actor.get_username() if actor is not None and actor.is_authenticated else "someone"
    JobEvent.objects.create(
        job=job,
        kind=JobEvent.Kind.STATUS,
        status=job.status,
        message=f"Submitted by {who}" + (f"; {held}" if held else ""),
        created_at=now,
    )
    if version.alias_of:
        _note_alias(job, version)
    job.wait_reason = held[:500] or queue_wait_reason(job)
    Job.objects.filter(pk=job.pk).update(wait_reason=job.wait_reason)
    activity.record(
        workspace, actor, "job.submitted", job.name, experiment=job.experiment.name, compute=job.compute_name
    )
    integrations.record_input_usage(job)
    if not held:
        enqueue(job)
    return job


def do_release_job(job: Job, message: str) -> bool:
    """Send a held job (Not started, see `do_submit_job`) to its compute: Queued, enqueued when the
    transaction commits. False when it is no longer held (canceled meanwhile)."""
    # The stored reason is a plain one: the parent's next child waits on this path, and the job
    # page works out the live reason of a Queued job itself (`queue_wait_reason`).
    reason = f"waiting for {job.compute_name} to pick it up"
    if not advance(job.pk, JobStatus.NOT_STARTED, JobStatus.QUEUED, message, wait_reason=reason):
        return False
    job.status, job.wait_reason = JobStatus.QUEUED, reason
    enqueue(job)
    return True
