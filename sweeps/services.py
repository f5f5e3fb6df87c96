"""Submitting, advancing and canceling sweeps. A sweep is advanced (finished trials told to
Optuna, new trials started up to max_concurrent_trials, the end recorded) by `advance_sweep`,
called on commit when a trial ends and by the periodic check, under a lock on the sweep row, so
any process can do it and none holds a worker while trials run."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs.models import (
    ACTIVE_STATUSES,
    UNFINISHED_STATUSES,
    FailureKind,
    Job,
    JobEvent,
    JobStatus,
    JobType,
    LatestMetric,
    Metric,
)
from jobs.runner.lifecycle import advance, cancel_parent, note
from jobs.services import do_cancel_job, do_release_job, do_submit_job
from jobs.services.submit import experiment_for, free_job_name, pinned_from
from studio import activity
from studio.errors import Conflict
from sweeps import engine
from sweeps.models import StudyLog, Sweep, SweepTrial, TrialState
from sweeps.spec import SweepSpec, parse_sweep_spec

READY_AHEAD = 2
# The wait reason of a trial made ready ahead, and the timeline entry when it starts.
READY = "ready as the sweep's next trial; it starts when one of the {n} trial slots frees (max_concurrent_trials)"
STARTED = "Started by the sweep: a trial slot is free"
# What `pinned_from` reads of a trial's job.
PINNED_RELATED = ("job__environment_version__environment", "job__experiment")


@transaction.atomic
def do_submit_sweep(workspace, *, actor, data: dict, code=None, source: str = "api", parent: Job | None = None) -> Job:
    """Validate a sweep job, store it Running with its Optuna study, and start its first trials
    in the same transaction (so a bad environment or compute refuses the whole submission).
    `parent`: the pipeline whose step the sweep is (told when the sweep ends, as for any child)."""
    spec = parse_sweep_spec(data, source="sweep YAML" if source == "yaml" else "sweep job")
    name = free_job_name(workspace, str(data.get("name") or ""))
    now = timezone.now()
    user = actor if actor is not None and actor.is_authenticated else None
    environment = spec.trial.get("environment", "")
    job = Job.objects.create(
        workspace=workspace,
        name=name,
        type=JobType.SWEEP,
        display_name=str(data.get("display_name") or "")[:255],
        description=str(data.get("description") or "")[:5000],
        tags=data.get("tags") or {},
        experiment=experiment_for(workspace, str(data.get("experiment_name") or "Default"), actor),
        status=JobStatus.RUNNING,
        created_by=user,
        created_at=now,
        queued_at=now,
        started_at=now,
        running_at=now,
        code=code,
        command=spec.trial["command"],
        environment_ref=environment if isinstance(environment, str) else "inline",
        compute_name=str(spec.top.get("compute") or "local"),
        inputs=spec.top.get("inputs") or {},
        timeout_seconds=spec.timeout,
        source=source,
        parent=parent,
    )
    sweep = Sweep.objects.create(job=job, spec=spec.to_dict(), study_name=f"studio-{uuid.uuid4().hex}")
    with engine.locked(sweep.study_name):
        engine.study(spec, sweep.study_name, create=True)
    who = user.get_username() if user else "someone"
    JobEvent.objects.create(
        job=job,
        kind=JobEvent.Kind.STATUS,
        status=JobStatus.RUNNING,
        message=f"Sweep submitted by {who}",
        created_at=now,
    )
    activity.record(workspace, actor, "sweep.submitted", name, experiment=job.experiment.name, compute=job.compute_name)
    with engine.locked(sweep.study_name):
        _advance(sweep, spec, refuse=True)
    job.refresh_from_db()
    return job


def validate_sweep(workspace, *, actor, data: dict, source: str = "sweep job") -> None:
    """The jobs.children `validate` hook: the sweep YAML's checks, nothing created."""
    parse_sweep_spec(data, source=source)


def on_trial_ended(parent_id: int, child_id: int) -> None:
    """The jobs hook: one of a sweep's trials reached a final state (in that trial's worker slot,
    which the next trial waits for). A trial made ready ahead is started at once; telling Optuna how
    the ended one did and readying the next wait for that trial's start (`on_trial_started`)."""
    if not _start_ready_trial(parent_id):
        advance_sweep(parent_id)


def on_trial_started(parent_id: int, child_id: int) -> None:
    """The jobs hook: a trial's command runs (this is a thread of its runner): a sweep that keeps
    trials ready is advanced while it runs, so its next trial is ready before a slot frees (one
    that does not advances when a trial ends, and has nothing to do here)."""
    spec = Sweep.objects.filter(job_id=parent_id).values_list("spec", flat=True).first()
    if spec is not None and ready_ahead(SweepSpec.from_dict(spec)):
        advance_sweep(parent_id)


def advance_sweep(job_id: int) -> None:
    with transaction.atomic():
        sweep = (
            Sweep.objects.select_for_update(of=("self", "job"))
            .select_related("job", "job__workspace", "job__created_by", "job__code")
            .filter(job_id=job_id)
            .first()
        )
        if sweep is not None:
            with engine.locked(sweep.study_name):
                _advance(sweep, SweepSpec.from_dict(sweep.spec))


def _start_ready_trial(job_id: int) -> bool:
    """Start the sweep's trial made ready ahead when a trial slot is free; False when none was.
    It runs in the ended trial's worker slot, which the next trial waits for: a few narrow queries,
    no model rows but the one job it starts."""
    with transaction.atomic():
        row = (
            Sweep.objects.select_for_update(of=("self",))
            .filter(job_id=job_id, job__status=JobStatus.RUNNING, stop_reason="")
            .values_list("pk", "spec")
            .first()
        )
        if row is None:
            return False
        unfinished = list(
            SweepTrial.objects.filter(sweep_id=row[0], job__status__in=UNFINISHED_STATUSES)
            .order_by("number")
            .values_list("job_id", "job__status")
        )
        ready = [pk for pk, status in unfinished if status == JobStatus.NOT_STARTED]
        if not ready or len(unfinished) - len(ready) >= SweepSpec.from_dict(row[1]).max_concurrent_trials:
            return False
        return do_release_job(Job.objects.select_related("compute__workspace").get(pk=ready[0]), STARTED)


def drop_journal(sender, instance: Sweep, **kwargs) -> None:
    """post_delete of a Sweep (also when its job or workspace goes): its Optuna journal goes too."""
    StudyLog.objects.filter(study_name=instance.study_name).delete()
    engine.forget(instance.study_name)


def _advance(sweep: Sweep, spec: SweepSpec, *, refuse: bool = False) -> None:
    """Close ended trials, start new ones, end the sweep when it is done. A trial that cannot be
    submitted (its environment or compute deleted since) stops the sweep with the reason, unless
    `refuse` (at submission: the whole sweep is refused instead)."""
    study, asked = engine.open_study(spec, sweep.study_name)
    known = set(sweep.trials.values_list("number", flat=True))
    for frozen in asked:
        if frozen.number not in known:  # asked in a transaction that rolled back: never ran
            engine.tell(study, frozen.number, None, "fail", known=frozen)
    # One snapshot of the open trials and their jobs' statuses decides both what to close and what
    # still runs: a trial whose job ends after it is counted as running (its own hook comes next),
    # never left unclosed behind a sweep that finished without it. Closed trials are not read.
    trials = list(
        sweep.trials.filter(Q(state=TrialState.RUNNING) | Q(job__status__in=UNFINISHED_STATUSES)).select_related(
            *PINNED_RELATED
        )
    )
    running, ready = 0, []
    for trial in trials:
        if trial.job.status == JobStatus.NOT_STARTED:
            ready.append(trial)
        elif trial.job.status in UNFINISHED_STATUSES:
            running += 1  # a pruned trial counts until its job has really stopped
        elif trial.state == TrialState.RUNNING:
            _close(sweep, spec, study, trial, asked[trial.number] if trial.number < len(asked) else None)
    total = len(known)
    parent = sweep.job  # read under the lock (or just created): current
    if parent.status == JobStatus.RUNNING and not sweep.stop_reason:
        while ready and running < spec.max_concurrent_trials:
            running += do_release_job(ready.pop(0).job, STARTED)
        # The next trial reuses what an earlier one resolved (the same environment reference).
        sibling = trials[-1] if trials else sweep.trials.select_related(*PINNED_RELATED).order_by("-number").first()
        pinned = pinned_from(sibling.job) if sibling is not None else None
        while running + len(ready) < spec.max_concurrent_trials + ready_ahead(spec) and total < spec.max_total_trials:
            hold = running >= spec.max_concurrent_trials
            number, values = engine.ask(study, spec)
            try:
                with transaction.atomic():
                    child = do_submit_job(
                        parent.workspace,
                        actor=parent.created_by,
                        data=spec.trial_data(values, f"{parent.name[:88]}_trial_{number}"),
                        code=parent.code,
                        source=parent.source,
                        parent=parent,
                        pinned=pinned,
                        held=READY.format(n=spec.max_concurrent_trials) if hold else "",
                    )
            except (ValidationError, Conflict) as exc:
                if refuse:
                    raise
                engine.tell(study, number, None, "fail")
                sweep.stop_reason = f"Trial {number} could not be started: {'; '.join(_messages(exc))}"[:500]
                sweep.save(update_fields=["stop_reason"])
                note(parent.pk, sweep.stop_reason, kind=JobEvent.Kind.ERROR)
                break
            trial = SweepTrial.objects.create(sweep=sweep, job=child, number=number, params=values)
            total += 1
            if hold:
                ready.append(trial)
            else:
                running += 1
    if parent.status != JobStatus.RUNNING or sweep.stop_reason:
        for trial in ready:  # never to start: canceled and closed now, so the sweep can end
            do_cancel_job(trial.job, actor=None)
            trial.job.status = JobStatus.CANCELED
            _close(sweep, spec, study, trial, asked[trial.number] if trial.number < len(asked) else None)
        ready = []
    if running == 0 and not ready and parent.status == JobStatus.RUNNING:
        if total >= spec.max_total_trials or sweep.stop_reason:
            _finish(sweep, spec)


def ready_ahead(spec: SweepSpec) -> int:
    """How many trials a sweep keeps ready beyond those running (created, Not started), so a
    trial starts the moment a slot frees instead of after the sweep asks Optuna for it. Two (one
    with a single slot): a second trial often ends before the first one's successor has readied
    the next. None with bayesian sampling: its next values should learn from every result up to the
    moment it starts (random, Sobol and grid values do not depend on results)."""
    return 0 if spec.algorithm == "bayesian" else min(READY_AHEAD, spec.max_concurrent_trials)


def _messages(exc) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [f"{k}: {m}" for k, msgs in exc.message_dict.items() for m in msgs]
    detail = getattr(exc, "detail", None)
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, msgs in detail.items() for m in (msgs if isinstance(msgs, list) else [msgs])]
    return [str(exc)]


def _close(sweep: Sweep, spec: SweepSpec, study, trial: SweepTrial, frozen) -> None:
    """Record how an ended trial did and tell Optuna (`frozen`: its Optuna trial as read under
    the lock)."""
    job = trial.job
    if job.status == JobStatus.COMPLETED:
        last = LatestMetric.objects.filter(job=job, key=spec.primary_metric, value__isnull=False).first()
        if last is None:
            trial.state = TrialState.NO_METRIC
            sweep.notice = (
                f"Trial {trial.number} ({job.name}) completed without logging the primary metric "
                f"{spec.primary_metric!r}: log it with mlflow.log_metric({spec.primary_metric!r}, value)."
            )[:1000]
            sweep.save(update_fields=["notice"])
            engine.tell(study, trial.number, None, "fail", known=frozen)
        else:
            trial.state, trial.value = TrialState.COMPLETED, last.value
            engine.tell(study, trial.number, last.value, "complete", known=frozen)
    else:
        trial.state = TrialState.FAILED if job.status == JobStatus.FAILED else TrialState.CANCELED
        engine.tell(study, trial.number, None, "fail", known=frozen)
    trial.save(update_fields=["state", "value"])
    if trial.state == TrialState.COMPLETED:
        best = sweep.best_trial
        better = best is None or (trial.value > best.value if spec.goal == "maximize" else trial.value < best.value)
        if better:
            sweep.best_trial = trial
            sweep.save(update_fields=["best_trial"])


def _finish(sweep: Sweep, spec: SweepSpec) -> None:
    job = sweep.job
    if sweep.best_trial_id:
        best = sweep.best_trial
        message = f"Best trial {best.number}: {spec.primary_metric} = {best.value:g}"
        # The sweep's outputs are its best trial's (what a pipeline binds `...outputs.model` to).
        outputs = {**(job.outputs or {}), **(best.job.outputs or {})}
        moved = advance(job.pk, JobStatus.RUNNING, JobStatus.COMPLETED, message, outputs=outputs)
        status = JobStatus.COMPLETED
    else:
        reason = sweep.notice or f"No trial completed with a value of {spec.primary_metric!r}."
        if sweep.stop_reason:
            reason = f"{sweep.stop_reason} {reason}"
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
        activity.record(job.workspace, None, "sweep.ended", job.name, status=status)


def check_sweep(job_id: int) -> None:
    """The periodic look at a running sweep: new intermediate values of the primary metric go to
    the pruner (a stopped trial is canceled and marked early terminated with the rule), the
    sweep's timeout is applied, and ended trials missed by the hook are picked up."""
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("job").filter(job_id=job_id).first()
        if sweep is None or sweep.job.status != JobStatus.RUNNING:
            return
        with engine.locked(sweep.study_name):
            _check(sweep)


def _check(sweep: Sweep) -> None:
    """Timeout, early termination, then the advance (under the sweep's lock)."""
    spec = SweepSpec.from_dict(sweep.spec)
    job = sweep.job
    if spec.timeout and not sweep.stop_reason and job.running_at:
        if (timezone.now() - job.running_at).total_seconds() > spec.timeout:
            sweep.stop_reason = f"The sweep reached its timeout of {spec.timeout} s."
            sweep.save(update_fields=["stop_reason"])
            note(job.pk, sweep.stop_reason)
            for trial in sweep.trials.filter(state=TrialState.RUNNING).select_related("job"):
                if trial.job.status in UNFINISHED_STATUSES:
                    do_cancel_job(trial.job, actor=None)
    if spec.early_termination and not sweep.stop_reason:
        _prune(sweep, spec)
    _advance(sweep, spec)


def _prune(sweep: Sweep, spec: SweepSpec) -> None:
    """Every running trial's new values are recorded first, then each is judged: trials running
    side by side are compared at the same step, whichever of them this loop reaches first."""
    study = engine.study(spec, sweep.study_name)
    rule = spec.early_termination["type"]
    fresh: list[tuple[SweepTrial, int, float]] = []
    for trial in sweep.trials.filter(state=TrialState.RUNNING, job__status__in=ACTIVE_STATUSES).select_related("job"):
        points: dict[int, float] = {}
        rows = Metric.objects.filter(job=trial.job, key=spec.primary_metric, value__isnull=False)
        if trial.last_step is not None:
            rows = rows.filter(step__gt=trial.last_step)
        for step, value in rows.order_by("step", "timestamp", "pk").values_list("step", "value"):
            points[step] = value
        if not points:
            continue
        ordered = sorted(points.items())
        engine.record(study, trial.number, ordered)
        trial.last_step = ordered[-1][0]
        trial.save(update_fields=["last_step"])
        fresh.append((trial, *ordered[-1]))
    for trial, step, value in fresh:
        if not engine.should_stop(study, trial.number):
            continue
        trial.state = TrialState.EARLY_TERMINATED
        trial.value = value
        trial.terminated_by = f"{rule} at step {step} ({spec.primary_metric} = {value:g})"
        engine.tell(study, trial.number, None, "pruned")
        if trial.job.status in UNFINISHED_STATUSES and not trial.job.cancel_requested_at:
            do_cancel_job(trial.job, actor=None)
        note(trial.job.pk, f"Early terminated by the sweep's {trial.terminated_by}")
        trial.save(update_fields=["state", "value", "terminated_by"])


def check_sweeps() -> int:
    count = 0
    for job_id in Sweep.objects.filter(job__status=JobStatus.RUNNING).values_list("job_id", flat=True):
        check_sweep(job_id)
        count += 1
    return count


def do_cancel_sweep(job: Job, *, actor) -> Job:
    """Cancel a sweep: no new trials, and every unfinished trial is canceled."""
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().get(job=job)
        reason = cancel_parent(job, actor=actor, noun="Sweep")
        sweep.stop_reason = reason
        sweep.save(update_fields=["stop_reason"])
        for trial in sweep.trials.filter(job__status__in=UNFINISHED_STATUSES).select_related("job", "job__workspace"):
            if not trial.job.cancel_requested_at:
                do_cancel_job(trial.job, actor=actor)
        activity.record(job.workspace, actor, "sweep.canceled", job.name)
    job.refresh_from_db()
    return job
