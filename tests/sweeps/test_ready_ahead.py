"""A random, Sobol or grid sweep keeps its next trial ready (created, Not started) so it starts
the moment a trial ends; Optuna hears how the ended trial did while that next trial runs. Nothing
runs the trials here: each test moves them through the real status changes by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compute import demand
from jobs import services as job_services
from jobs.models import Job, JobStatus
from jobs.runner.lifecycle import advance
from sweeps import services
from sweeps.models import TrialState
from tests.conftest import token_client
from tracking.services import MetricIn, do_log_metrics

SWEEP = {
    "type": "sweep",
    "name": "ahead",
    "compute": "local",
    "trial": {"command": "python t.py ${{search_space.x}}", "environment": "plain:1"},
    "search_space": {"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
    "objective": {"primary_metric": "acc", "goal": "maximize"},
    "sampling_algorithm": {"type": "random", "seed": 4},
    "limits": {"max_total_trials": 6, "max_concurrent_trials": 2},
}


def _submit(workspace, owner, **changes) -> Job:
    return job_services.do_submit_job(workspace, actor=owner, data={**SWEEP, **changes})


def _statuses(sweep: Job) -> list[str]:
    return list(sweep.sweep.trials.order_by("number").values_list("job__status", flat=True))


def _end(trial_job: Job, value: float, capture) -> None:
    """The trial's runner: Queued -> ... -> Completed, with its metric, and its end's hook run."""
    for before, after in (
        (JobStatus.QUEUED, JobStatus.PREPARING),
        (JobStatus.PREPARING, JobStatus.RUNNING),
        (JobStatus.RUNNING, JobStatus.FINALIZING),
    ):
        assert advance(trial_job.pk, before, after)
    do_log_metrics(trial_job, [MetricIn("acc", value, 1000, 0)])
    with capture(execute=True):
        advance(trial_job.pk, JobStatus.FINALIZING, JobStatus.COMPLETED, "done")


@pytest.mark.django_db
def test_the_next_trials_are_ready_and_start_when_trials_end_and_optuna_hears_later(
    client, workspace, owner, plain_env, no_dispatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sweep = _submit(workspace, owner)
    assert _statuses(sweep) == [JobStatus.QUEUED] * 2 + [JobStatus.NOT_STARTED] * 2
    assert [job_id for job_id, _ in no_dispatch] == list(
        sweep.sweep.trials.filter(number__lt=2).order_by("number").values_list("job_id", flat=True)
    ), "only the two running trials went to the compute queue"
    ready = Job.objects.filter(parent=sweep, status=JobStatus.NOT_STARTED).order_by("pk").first()
    assert "trial slots frees" in ready.wait_reason
    assert demand.counts(ready.compute).queued == 2, "a ready trial asks for no node"
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/jobs/{ready.name}/").content.decode()
    assert "Not started" in page and ">NotStarted<" not in page and "trial slots frees" in page
    sweep_page = client.get(f"/w/{workspace.name}/sweeps/ahead/").content.decode()
    assert "Next up" in sweep_page and "starts when a trial ends (2 at a time)" in sweep_page

    first = sweep.sweep.trials.select_related("job").get(number=0)
    _end(first.job, 0.5, django_capture_on_commit_callbacks)
    assert _statuses(sweep) == [JobStatus.COMPLETED, JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.NOT_STARTED]
    assert no_dispatch[-1][0] == ready.pk, "the ready trial went to the queue at the end"
    first.refresh_from_db()
    assert first.state == TrialState.RUNNING, "Optuna hears of the ended trial when the next one runs"
    assert ready.events.filter(status=JobStatus.QUEUED, message=services.STARTED).exists()

    services.on_trial_started(sweep.pk, ready.pk)  # what the ready trial's runner calls as it runs
    first.refresh_from_db()
    assert first.state == TrialState.COMPLETED and first.value == 0.5
    assert _statuses(sweep) == [JobStatus.COMPLETED] + [JobStatus.QUEUED] * 2 + [JobStatus.NOT_STARTED] * 2
    sweep.sweep.refresh_from_db()
    assert sweep.sweep.best_trial_id == first.pk

    most = 0
    while (queued := sweep.sweep.trials.select_related("job").filter(job__status=JobStatus.QUEUED).first()) is not None:
        _end(queued.job, 0.1 * queued.number, django_capture_on_commit_callbacks)
        started = sweep.sweep.trials.filter(job__status=JobStatus.QUEUED).order_by("-job__queued_at").first()
        if started is not None:
            services.on_trial_started(sweep.pk, started.job_id)
        most = max(most, sweep.sweep.trials.filter(job__status=JobStatus.QUEUED).count())
    sweep.refresh_from_db()
    assert sweep.status == JobStatus.COMPLETED, sweep.failure_reason
    assert most <= 2, "never more than max_concurrent_trials started at once"
    assert sweep.sweep.trials.count() == 6 and Job.objects.filter(parent=sweep).count() == 6
    assert set(sweep.sweep.trials.values_list("state", flat=True)) == {TrialState.COMPLETED}


@pytest.mark.django_db
def test_a_bayesian_sweep_asks_each_trial_when_a_slot_frees(workspace, owner, plain_env, no_dispatch):
    sweep = _submit(workspace, owner, sampling_algorithm={"type": "bayesian"})
    assert _statuses(sweep) == [JobStatus.QUEUED, JobStatus.QUEUED], "nothing asked before its results can count"


@pytest.mark.django_db
def test_a_trial_asked_ahead_that_cannot_be_started_stops_the_sweep_and_the_ready_one_is_canceled(
    workspace, owner, plain_env, no_dispatch, django_capture_on_commit_callbacks
):
    # Trial 4's name is taken, so it cannot be started: the sweep stops with the reason.
    job_services.do_submit_job(
        workspace, actor=owner, data={"command": "true", "environment": "plain:1", "name": "ahead_trial_4"}
    )
    sweep = _submit(workspace, owner)
    first, second, third, fourth = sweep.sweep.trials.select_related("job").order_by("number")
    _end(first.job, 0.5, django_capture_on_commit_callbacks)  # the ready trial 2 starts
    services.on_trial_started(sweep.pk, third.job_id)  # asking trial 4 fails: the sweep stops
    sweep.sweep.refresh_from_db()
    assert "Trial 4 could not be started" in sweep.sweep.stop_reason
    assert Job.objects.get(pk=fourth.job_id).status == JobStatus.CANCELED, "the ready trial 3 never starts"
    for trial in (second, third):
        _end(Job.objects.get(pk=trial.job_id), 0.25, django_capture_on_commit_callbacks)
    sweep.refresh_from_db()
    assert sweep.status == JobStatus.COMPLETED, "the trials that ran count; the sweep says why it stopped"
    assert list(sweep.sweep.trials.order_by("number").values_list("state", flat=True)) == [
        TrialState.COMPLETED,
        TrialState.COMPLETED,
        TrialState.COMPLETED,
        TrialState.CANCELED,
    ]


@pytest.mark.django_db
def test_canceling_the_sweep_cancels_its_ready_trial_and_the_cli_stream_never_shows_it_started(
    workspace, owner, plain_env, no_dispatch, django_capture_on_commit_callbacks
):
    sweep = _submit(workspace, owner)
    listed = token_client(owner).get(f"/api/v1/workspaces/{workspace.name}/jobs/ahead/trials/").json()
    assert [t["job_status"] for t in listed] == [JobStatus.QUEUED] * 2 + [JobStatus.NOT_STARTED] * 2
    with django_capture_on_commit_callbacks(execute=True):
        job_services.do_cancel_job(sweep, actor=owner)
    sweep.refresh_from_db()
    assert sweep.status == JobStatus.CANCELED
    assert set(_statuses(sweep)) == {JobStatus.CANCELED}
    assert set(sweep.sweep.trials.values_list("state", flat=True)) == {TrialState.CANCELED}


@pytest.mark.django_db
def test_a_ready_trial_is_canceled_when_the_sweep_times_out(
    workspace, owner, plain_env, no_dispatch, django_capture_on_commit_callbacks
):
    sweep = _submit(workspace, owner, limits={**SWEEP["limits"], "timeout": 60})
    Job.objects.filter(pk=sweep.pk).update(running_at=sweep.running_at - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        services.check_sweep(sweep.pk)
    sweep.refresh_from_db()
    assert "timeout" in sweep.sweep.stop_reason
    assert set(_statuses(sweep)) == {JobStatus.CANCELED} and sweep.sweep.trials.count() == 4
    assert sweep.status == JobStatus.FAILED and "timeout" in sweep.failure_reason
