"""Submitting, advancing, canceling and rerunning pipeline jobs.

A pipeline is advanced by `advance_pipeline` under a lock on its row: ended step jobs are recorded
(outputs and the digest of their content), failures stop the pipeline (or only their descendants,
with continue_on_step_failure), every step whose inputs are ready is reused at once or started as
an ordinary child command job, and the pipeline ends when every step has. It is called in the
submission's transaction, on commit whenever a step's job ends (jobs.children), and by the
periodic check, so any process may restart without losing a pipeline."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from datastores.models import Datastore
from jobs import integrations
from jobs.models import UNFINISHED_STATUSES, FailureKind, Job, JobEvent, JobStatus, JobType
from jobs.runner.lifecycle import advance, cancel_parent, note
from jobs.services import do_cancel_job, do_submit_job
from jobs.services.submit import experiment_for, free_job_name
from pipelines import reuse
from pipelines.models import DONE_STATES, Pipeline, PipelineStep, StepState
from pipelines.pipeline_spec import PipelineSpec, parse_pipeline
from pipelines.services.components import register_inline_component, resolve_component
from studio import activity
from studio.errors import Conflict
from sweeps.services import do_submit_sweep

MODEL_TYPES = ("mlflow_model", "custom_model", "triton_model")
DEFAULT_DATASTORE = "workspaceblobstore"


def parse(workspace, data: dict, *, actor, source: str = "api") -> PipelineSpec:
    return parse_pipeline(
        workspace,
        data,
        actor=actor,
        resolve_component=resolve_component,
        register_component=register_inline_component,
        source="pipeline YAML" if source == "yaml" else "pipeline job",
    )


@transaction.atomic
def do_submit_pipeline(workspace, *, actor, data: dict, code=None, source: str = "api") -> Job:
    """Validate a pipeline job, store it Running with its steps, and start (or reuse) the steps
    that are ready, in the same transaction: a bad step refuses the whole submission."""
    spec = parse(workspace, data, actor=actor, source=source)
    _check_computes(workspace, spec, actor)
    return _create(workspace, actor=actor, spec=spec, source=source)


class _DryRun(Exception):
    """Raised to roll back what validating a pipeline registered (inline component versions)."""


def validate_pipeline(workspace, *, actor, data: dict, source: str = "pipeline job") -> None:
    """The jobs.children `validate` hook (a schedule being made): every check of a submission
    (components, bindings, types, cycles, environments, data inputs, computes, datastore), with
    nothing kept: inline components it registers are rolled back."""
    try:
        with transaction.atomic():
            spec = parse(workspace, data, actor=actor, source="yaml" if "YAML" in source else "api")
            _check_computes(workspace, spec, actor)
            raise _DryRun
    except _DryRun:
        pass


def _check_computes(workspace, spec: PipelineSpec, actor) -> None:
    errors: dict[str, list[str]] = {}
    checked: set[str] = set()
    for step in spec.steps:
        if step.compute in checked:
            continue
        checked.add(step.compute)
        try:
            target = integrations.find_compute(workspace, step.compute)
            integrations.check_can_accept(target, actor)
        except ValidationError as exc:
            errors.setdefault(f"jobs.{step.name}.compute", []).extend(exc.messages)
    store = spec.default_datastore
    if store and not Datastore.objects.filter(workspace=workspace, name=store).exists():
        errors["settings.default_datastore"] = [f"There is no datastore {store!r} in {workspace.name}."]
    if errors:
        raise ValidationError(errors)


def _create(
    workspace, *, actor, spec: PipelineSpec, source: str, plan: dict[str, dict] | None = None, name: str = ""
) -> Job:
    """The parent job, its Pipeline and steps; then the first advance. `plan`: per step,
    {"reuse": earlier PipelineStep} or {"force": True} (a rerun from a step)."""
    user = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    job = Job.objects.create(
        workspace=workspace,
        name=free_job_name(workspace, name or spec.name),
        type=JobType.PIPELINE,
        display_name=spec.display_name,
        description=spec.description,
        tags=spec.tags,
        experiment=experiment_for(workspace, spec.experiment_name, actor),
        status=JobStatus.RUNNING,
        created_by=user,
        created_at=now,
        queued_at=now,
        started_at=now,
        running_at=now,
        command="",
        environment_ref="",
        compute_name=spec.compute,
        inputs={k: _shown_input(v) for k, v in spec.inputs.items()},
        outputs={k: {"type": v["type"]} for k, v in spec.outputs.items()},
        source=source,
    )
    pipeline = Pipeline.objects.create(
        job=job,
        spec=spec.to_dict(),
        force_rerun=spec.force_rerun,
        continue_on_step_failure=spec.continue_on_step_failure,
    )
    plan = plan or {}
    for position, step in enumerate(spec.steps):
        row = PipelineStep.objects.create(
            pipeline=pipeline,
            workspace=workspace,
            name=step.name,
            position=position,
            component_version_id=step.component_version_id,
        )
        earlier = (plan.get(step.name) or {}).get("reuse")
        if earlier is not None:
            _reuse(
                row,
                earlier,
                reuse.explain_reuse(_origin(earlier).name, earlier.identity) + " (rerun from a later step)",
            )
    who = user.get_username() if user else "someone"
    JobEvent.objects.create(
        job=job,
        kind=JobEvent.Kind.STATUS,
        status=JobStatus.RUNNING,
        message=f"Pipeline submitted by {who}",
        created_at=now,
    )
    activity.record(
        workspace, actor, "pipeline.submitted", job.name, experiment=job.experiment.name, steps=len(spec.steps)
    )
    forced = {n for n, p in plan.items() if p.get("force")}
    _advance(pipeline, spec, refuse=True, forced=forced)
    job.refresh_from_db()
    return job


def _shown_input(binding: dict) -> dict:
    if binding["kind"] == "literal":
        return {"type": binding["type"], "value": binding["value"]}
    item = binding["item"]
    return {
        "type": binding["type"],
        "path": item.get("path", ""),
        "uri": item.get("uri", ""),
        "asset": binding.get("label", ""),
    }


def on_step_ended(parent_id: int, child_id: int) -> None:
    """The jobs hook: one of a pipeline's step jobs reached a final state."""
    advance_pipeline(parent_id)


def advance_pipeline(job_id: int) -> None:
    with transaction.atomic():
        pipeline = (
            Pipeline.objects.select_for_update(of=("self", "job"))
            .select_related("job", "job__workspace", "job__experiment", "job__created_by")
            .filter(job_id=job_id)
            .first()
        )
        if pipeline is not None:
            _advance(pipeline, PipelineSpec.from_dict(pipeline.spec))


def _origin(step: PipelineStep) -> Job:
    """The job that really made a step's outputs (itself, or the one it reused)."""
    return step.job if step.state == StepState.COMPLETED else step.reused_from


def _advance(pipeline: Pipeline, spec: PipelineSpec, *, refuse: bool = False, forced: set[str] | None = None) -> None:
    parent = pipeline.job  # fresh: just created, or just read under the lock (advance_pipeline)
    steps = _steps(pipeline)
    digests = reuse.Digests(parent.workspace)
    for row in steps.values():
        if row.state == StepState.RUNNING and row.job is not None and row.job.status not in UNFINISHED_STATUSES:
            _record_end(row, spec.step(row.name), digests)
    running = parent.status == JobStatus.RUNNING
    failed = [s for s in steps.values() if s.state in (StepState.FAILED, StepState.CANCELED)]
    if failed and not pipeline.continue_on_step_failure and running:
        _stop(pipeline, steps, f"step {failed[0].name} {failed[0].state}")
    elif not running:
        for row in steps.values():
            if row.state == StepState.WAITING:
                _end_step(row, StepState.CANCELED, f"the pipeline is {parent.status}")
    else:
        progressed = True
        while progressed:
            progressed = False
            for step in spec.steps:
                row = steps[step.name]
                if row.state != StepState.WAITING:
                    continue
                ups = [steps[u] for u in step.upstream]
                if any(u.state in (StepState.FAILED, StepState.CANCELED, StepState.SKIPPED) for u in ups):
                    bad = next(u for u in ups if u.state in (StepState.FAILED, StepState.CANCELED, StepState.SKIPPED))
                    _end_step(row, StepState.SKIPPED, f"upstream step {bad.name} {bad.state}")
                    progressed = True
                elif all(u.state in DONE_STATES for u in ups):
                    _start(
                        pipeline,
                        parent,
                        spec,
                        step,
                        row,
                        steps,
                        digests,
                        refuse=refuse,
                        force=step.name in (forced or set()),
                    )
                    progressed = True
                    if row.state in (StepState.FAILED,) and not pipeline.continue_on_step_failure:
                        _stop(pipeline, steps, f"step {row.name} could not start")
                        progressed = False
                        break
    if all(s.is_final for s in steps.values()) and parent.status == JobStatus.RUNNING:
        _finish(pipeline, spec, steps)


def _steps(pipeline: Pipeline) -> dict[str, PipelineStep]:
    """The pipeline's steps by name, with the job of each running one (the only jobs advancing
    reads): a chain's finished steps are not read again with their jobs at every step end."""
    rows = list(pipeline.steps.defer("identity", "explanation"))
    running = [r.job_id for r in rows if r.state == StepState.RUNNING and r.job_id is not None]
    jobs = Job.objects.in_bulk(running) if running else {}
    for row in rows:
        row.pipeline = pipeline
        if row.job_id in jobs:
            row.job = jobs[row.job_id]
    return {row.name: row for row in rows}


def _start(
    pipeline, parent, spec: PipelineSpec, step, row: PipelineStep, steps, digests, *, refuse: bool, force: bool
) -> None:
    """Reuse an identical earlier step at once, or submit the step's command job."""
    outputs = {name: steps[name].outputs for name in step.upstream}
    ident = reuse.identity(step.to_dict(), outputs, digests)
    row.identity = ident
    row.fingerprint = reuse.fingerprint(ident)
    reason, previous = "", None
    if force:
        reason = "rerun from this step was asked for"
    elif pipeline.force_rerun:
        reason = "force_rerun is set for the pipeline"
    elif not step.is_deterministic:
        reason = "is_deterministic is false: the step always runs"
    else:
        earlier, previous = _reusable_or_previous(pipeline, row, ident)
        if earlier is not None:
            _reuse(row, earlier, reuse.explain_reuse(_origin(earlier).name, ident))
            return
    row.explanation = reuse.explain_run(ident, previous, reason=reason)[:2000]
    try:
        child = _submit_step(parent, spec, step, steps)
    except (ValidationError, Conflict) as exc:
        if refuse:
            raise
        row.save(update_fields=["identity", "fingerprint", "explanation"])
        _end_step(row, StepState.FAILED, f"could not start: {'; '.join(_messages(exc))}")
        return
    row.job = child
    row.state = StepState.RUNNING
    row.started_at = timezone.now()
    row.save(update_fields=["identity", "fingerprint", "explanation", "job", "state", "started_at"])


def _reusable_or_previous(pipeline, row: PipelineStep, ident: dict) -> tuple[PipelineStep | None, dict | None]:
    """One lookup for both questions a deterministic step asks of the workspace's other pipelines:
    an identical finished step to reuse (same fingerprint, newest first, with a job that made its
    outputs), else the identity of this step's last finished run of the same component, to say
    what changed. Rows with the fingerprint sort first; without one, the newest run of the step."""
    same = Q(fingerprint=row.fingerprint)
    found = list(
        PipelineStep.objects.filter(workspace_id=row.workspace_id, state__in=DONE_STATES)
        .filter(same | Q(name=row.name, identity__component_name=ident["component_name"]))
        .exclude(pipeline=pipeline)
        .annotate(same=ExpressionWrapper(same, output_field=BooleanField()))
        .select_related("job", "reused_from")
        .order_by("-same", "-ended_at", "-pk")[:1]
    )
    if not found:
        return None, None
    if not found[0].same:
        return None, found[0].identity
    if _origin(found[0]) is not None:
        return found[0], None
    previous = (  # rare: an identical step whose jobs are gone; its own last run says what changed
        PipelineStep.objects.filter(
            workspace_id=row.workspace_id,
            name=row.name,
            state__in=DONE_STATES,
            identity__component_name=ident["component_name"],
        )
        .exclude(pipeline=pipeline)
        .order_by("-ended_at", "-pk")
        .values_list("identity", flat=True)
        .first()
    )
    return None, previous


def _submit_step(parent: Job, spec: PipelineSpec, step, steps) -> Job:
    """The step's child job, named `<pipeline>_<step>`, or a generated name when a job has that
    name already (the submission says so, and is tried once more: no query ahead of it)."""
    candidate = f"{parent.name[: 99 - len(step.name)]}_{step.name}"
    try:
        return _submit_child(parent, spec, step, steps, candidate)
    except Conflict as exc:
        if "name" not in getattr(exc, "error_dict", {}):
            raise
    return _submit_child(parent, spec, step, steps, free_job_name(parent.workspace))


def _submit_child(parent: Job, spec: PipelineSpec, step, steps, name: str) -> Job:
    """do_submit_job and do_submit_sweep are atomic (a savepoint): a refused one leaves nothing."""
    data = _child_data(parent, spec, step, steps, name)
    if step.sweep:
        return do_submit_sweep(
            parent.workspace,
            actor=parent.created_by,
            data=_sweep_data(data, step),
            code=None,
            source=parent.source,
            parent=parent,
        )
    return do_submit_job(
        parent.workspace, actor=parent.created_by, data=data, code=None, source=parent.source, parent=parent
    )


def _reuse(row: PipelineStep, earlier: PipelineStep, explanation: str) -> None:
    now = timezone.now()
    row.state = StepState.REUSED
    row.reused_from = _origin(earlier)
    row.outputs = earlier.outputs
    row.explanation = explanation[:2000]
    if not row.fingerprint:
        row.identity, row.fingerprint = earlier.identity, earlier.fingerprint
    row.started_at = row.ended_at = now
    row.save()
    _bind_parent_outputs(row)


def _child_data(parent: Job, spec: PipelineSpec, step, steps, name: str) -> dict:
    inputs: dict[str, dict] = {}
    for key, binding in step.inputs.items():
        kind = binding.get("declared") or binding["type"]
        if binding["kind"] == "literal":
            inputs[key] = {"type": kind, "value": binding["value"]}
            continue
        if binding["kind"] == "step":
            out = steps[binding["step"]].outputs[binding["output"]]
            path = out["uri"]
        else:
            item = binding["item"]
            path = (
                f"azureml:{item['asset']}"
                if item.get("asset")
                else (f"azureml:{item['model']}" if item.get("model") else item.get("uri") or item["path"])
            )
        if kind in MODEL_TYPES and path.startswith("azureml://"):
            kind = "uri_folder"  # a model passed between steps is a folder of files, not a registered version
        inputs[key] = {"type": kind, "path": path, "mode": "ro_mount"}
    outputs = {}
    for output, out in step.outputs.items():
        outputs[output] = {"type": out["type"]}
        if spec.default_datastore and spec.default_datastore != DEFAULT_DATASTORE:
            folder = "" if out["type"] == "uri_file" else "/"
            store = spec.default_datastore
            outputs[output]["path"] = f"azureml://datastores/{store}/paths/azureml/{name}/{output}{folder}"
    return {
        "name": name,
        "display_name": step.display_name or step.name,
        "experiment_name": parent.experiment.name,
        "command": step.command,
        "environment": step.environment,
        "compute": step.compute,
        **({"code": step.code} if step.code else {}),  # a job mapping's code is a code id, never null
        "inputs": inputs,
        "outputs": outputs,
        "environment_variables": step.environment_variables,
    }


def _sweep_data(data: dict, step) -> dict:
    """A sweep step as a sweep job: the step's command job becomes the trial, with the search
    space in place of the inputs it sets. Each trial writes its outputs to its own default path;
    the sweep job's outputs are the best trial's when it ends (sweeps.services)."""
    trial = {
        "command": step.sweep["command"],
        "environment": data.pop("environment"),
        "environment_variables": data.pop("environment_variables"),
    }
    if data.get("code"):
        trial["code"] = data["code"]
    data.pop("code", None)
    data.pop("command")
    data["outputs"] = {k: {"type": v["type"]} for k, v in data["outputs"].items()}
    sweep = {k: v for k, v in step.sweep.items() if k != "command"}
    return {**data, "type": "sweep", "trial": trial, **sweep}


def _record_end(row: PipelineStep, step, digests) -> None:
    job = row.job
    if job.status == JobStatus.COMPLETED:
        outputs = {}
        for name, out in (job.outputs or {}).items():
            uri = out.get("uri", "")
            outputs[name] = {
                "type": out.get("type", "uri_folder"),
                "uri": uri,
                "digest": digests.content(uri) if uri else "",
            }
        row.outputs = outputs
        row.state = StepState.COMPLETED
        row.reason = ""
    else:
        row.state = StepState.FAILED if job.status == JobStatus.FAILED else StepState.CANCELED
        row.reason = (job.failure_reason or job.status)[:1000]
    row.ended_at = job.ended_at or timezone.now()
    row.save(update_fields=["outputs", "state", "reason", "ended_at"])
    if row.state == StepState.COMPLETED:
        _bind_parent_outputs(row)


def _bind_parent_outputs(row: PipelineStep) -> None:
    """`${{parent.outputs.z}}`: the pipeline job's output z is the step's output."""
    spec = row.pipeline.spec
    if not any(out.get("step") == row.name for out in (spec.get("outputs") or {}).values()):
        return
    parent = row.pipeline.job
    changed = False
    outputs = dict(Job.objects.filter(pk=parent.pk).values_list("outputs", flat=True).first() or {})
    for name, out in (spec.get("outputs") or {}).items():
        if out.get("step") == row.name and out.get("output") in row.outputs:
            outputs[name] = {"type": out["type"], "uri": row.outputs[out["output"]]["uri"], "step": row.name}
            changed = True
    if changed:
        Job.objects.filter(pk=parent.pk).update(outputs=outputs)


def _end_step(row: PipelineStep, state: str, reason: str) -> None:
    row.state = state
    row.reason = reason[:1000]
    row.ended_at = timezone.now()
    row.save(update_fields=["state", "reason", "ended_at"])


def _stop(pipeline: Pipeline, steps: dict[str, PipelineStep], why: str) -> None:
    """A step failed and the pipeline does not continue: cancel running steps, skip waiting ones."""
    for row in steps.values():
        if row.state == StepState.WAITING:
            _end_step(row, StepState.SKIPPED, f"the pipeline stopped: {why}")
        elif row.state == StepState.RUNNING and row.job is not None and row.job.status in UNFINISHED_STATUSES:
            if not row.job.cancel_requested_at:
                do_cancel_job(row.job, actor=None)
                note(row.job.pk, f"Canceled: the pipeline stopped ({why})")
    for row in steps.values():  # a step canceled before it started has ended already
        if row.state == StepState.RUNNING and row.job is not None:
            row.job.refresh_from_db()
            if row.job.status not in UNFINISHED_STATUSES:
                _record_end(row, None, reuse.Digests(pipeline.job.workspace))


def _finish(pipeline: Pipeline, spec: PipelineSpec, steps: dict[str, PipelineStep]) -> None:
    job = pipeline.job
    bad = [s for s in steps.values() if s.state not in DONE_STATES]
    if not bad:
        reused = sum(1 for s in steps.values() if s.state == StepState.REUSED)
        message = f"All {len(steps)} steps completed" + (f" ({reused} reused)" if reused else "")
        moved = advance(job.pk, JobStatus.RUNNING, JobStatus.COMPLETED, message)
        status = JobStatus.COMPLETED
    else:
        failed = [s for s in bad if s.state in (StepState.FAILED, StepState.CANCELED)] or bad
        reason = "; ".join(f"step {s.name} {s.state}: {s.reason}" for s in failed[:3])[:1000]
        moved = advance(
            job.pk,
            JobStatus.RUNNING,
            JobStatus.FAILED,
            reason,
            failure_kind=FailureKind.USER_ERROR,
            failure_reason=reason,
        )
        status = JobStatus.FAILED
    if moved:
        activity.record(job.workspace, None, "pipeline.ended", job.name, status=status)


def _messages(exc) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [f"{k}: {m}" for k, msgs in exc.message_dict.items() for m in msgs]
    detail = getattr(exc, "detail", None)
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, msgs in detail.items() for m in (msgs if isinstance(msgs, list) else [msgs])]
    return [str(exc)]


def do_cancel_pipeline(job: Job, *, actor) -> Job:
    """Cancel a pipeline: no new steps; running steps are canceled, waiting ones too."""
    with transaction.atomic():
        pipeline = Pipeline.objects.select_for_update().get(job=job)
        reason = cancel_parent(job, actor=actor, noun="Pipeline")
        for row in pipeline.steps.select_related("job", "job__workspace"):
            if row.state == StepState.WAITING:
                _end_step(row, StepState.CANCELED, reason)
            elif row.state == StepState.RUNNING and row.job is not None and row.job.status in UNFINISHED_STATUSES:
                if not row.job.cancel_requested_at:
                    do_cancel_job(row.job, actor=actor)
        activity.record(job.workspace, actor, "pipeline.canceled", job.name)
    advance_pipeline(job.pk)
    job.refresh_from_db()
    return job


@transaction.atomic
def do_rerun_from_step(job: Job, step_name: str, *, actor) -> Job:
    """A new run of the pipeline where `step_name` and every step after it run again and every
    other step reuses this run's outputs (when it has them)."""
    pipeline = Pipeline.objects.select_related("job", "job__workspace").get(job=job)
    spec = PipelineSpec.from_dict(pipeline.spec)
    names = [s.name for s in spec.steps]
    if step_name not in names:
        raise ValidationError({"step": [f"Pipeline {job.name} has no step {step_name!r}."]})
    descendants = {step_name}
    for step in spec.steps:  # topological order: a step's upstream comes first
        if any(u in descendants for u in step.upstream):
            descendants.add(step.name)
    rows = {r.name: r for r in pipeline.steps.select_related("job", "reused_from")}
    plan: dict[str, dict] = {}
    for name in names:
        if name in descendants:
            plan[name] = {"force": True}
        elif rows.get(name) is not None and rows[name].state in DONE_STATES:
            plan[name] = {"reuse": rows[name]}
    _check_computes(job.workspace, spec, actor)
    spec.name = ""
    return _create(job.workspace, actor=actor, spec=spec, source=job.source, plan=plan)


def check_pipelines() -> int:
    """The periodic look (Celery beat): advance running pipelines whose step ended unheard."""
    count = 0
    stale = PipelineStep.objects.filter(state=StepState.RUNNING, pipeline__job__status=JobStatus.RUNNING).exclude(
        job__status__in=UNFINISHED_STATUSES
    )
    for job_id in set(stale.values_list("pipeline__job_id", flat=True)):
        advance_pipeline(job_id)
        count += 1
    return count
