"""Real sweeps on real workers: trials are child command jobs that log their metric with MLflow."""

from __future__ import annotations

import re

import pytest

from jobs.models import Job, JobStatus
from sweeps.models import TrialState
from tests.conftest import token_client
from tests.jobs.conftest import make_zip, wait_status
from tests.sweeps.conftest import LIGHT_TRIAL

TRAIN = """
import sys, time
import mlflow

x, y = float(sys.argv[1]), float(sys.argv[2])
steps, pause = int(sys.argv[3]), float(sys.argv[4])
for step in range(steps):
    mlflow.log_metric("score", (x + 10 * y) * (step + 1) / steps, step=step)
    time.sleep(pause)
"""


def _sweep(api, workspace, env, *, space, algorithm, limits, extra_args="1 0", script=TRAIN, **more):
    """Upload the trial's code, then submit the sweep through the jobs API, as the CLI does."""
    base = f"/api/v1/workspaces/{workspace.name}"
    code = api.post(f"{base}/codes/", {"file": make_zip({"train.py": script})}, format="multipart").json()["id"]
    answer = api.post(
        f"{base}/jobs/",
        {
            "type": "sweep",
            "trial": {
                "command": f"python train.py ${{{{search_space.x}}}} ${{{{search_space.y}}}} {extra_args}",
                "environment": env,
                "code": code,
            },
            "search_space": space,
            "objective": {"primary_metric": "score", "goal": "maximize"},
            "sampling_algorithm": algorithm,
            "limits": limits,
            **more,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["type"] == "sweep"
    return Job.objects.get(workspace=workspace, name=answer.json()["name"])


def _last_step(job) -> int:
    return job.metrics.filter(key="score").order_by("-step").values_list("step", flat=True).first()


def _max_overlap(jobs) -> int:
    """The most trials unfinished at one moment, from their queued/ended times."""
    points = sorted([(j.queued_at, 1) for j in jobs] + [(j.ended_at, -1) for j in jobs], key=lambda p: (p[0], p[1]))
    most = now = 0
    for _, delta in points:
        now += delta
        most = max(most, now)
    return most


def test_grid_2x2_runs_4_trials_two_at_a_time_and_finds_the_best(node, mlflow_env, workspace, owner):
    api = token_client(owner)
    sweep = _sweep(
        api,
        workspace,
        mlflow_env,
        space={"x": {"type": "choice", "values": [1, 2]}, "y": {"type": "choice", "values": [0, 1]}},
        algorithm="grid",
        limits={"max_total_trials": 10, "max_concurrent_trials": 2},
    )
    sweep = wait_status(sweep, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=180)
    trials = list(sweep.sweep.trials.select_related("job"))
    assert sweep.status == JobStatus.COMPLETED, (
        sweep.failure_reason,
        [(t.state, t.job.failure_reason) for t in trials],
    )
    assert len(trials) == 4 and {(t.params["x"], t.params["y"]) for t in trials} == {(1, 0), (1, 1), (2, 0), (2, 1)}
    assert all(t.state == TrialState.COMPLETED for t in trials)
    best = sweep.sweep.best_trial
    assert best.params == {"x": 2, "y": 1} and best.value == 12.0
    assert _max_overlap([t.job for t in trials]) <= 2
    assert all(t.job.parent_id == sweep.pk for t in trials)
    page = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{sweep.name}/").json()
    assert page["type"] == "sweep"


def _random_params(api, workspace, env):
    sweep = _sweep(
        api,
        workspace,
        env,
        space={"x": {"type": "uniform", "min_value": 0, "max_value": 1}, "y": {"type": "randint", "upper": 100}},
        algorithm={"type": "random", "seed": 42},
        limits={"max_total_trials": 3, "max_concurrent_trials": 1},
        extra_args="1 0",
    )
    sweep = wait_status(sweep, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=180)
    assert sweep.status == JobStatus.COMPLETED, sweep.failure_reason
    trials = list(sweep.sweep.trials.select_related("job"))
    assert _max_overlap([t.job for t in trials]) == 1
    return [t.params for t in trials]


def test_random_with_a_seed_is_reproducible(node, mlflow_env, workspace, owner):
    api = token_client(owner)
    first = _random_params(api, workspace, mlflow_env)
    second = _random_params(api, workspace, mlflow_env)
    assert first == second
    assert len({p["x"] for p in first}) == 3, "each trial gets its own values"


def test_median_stopping_cancels_poor_trials(node, beat, mlflow_env, workspace, owner):
    api = token_client(owner)
    sweep = _sweep(
        api,
        workspace,
        mlflow_env,
        space={"x": {"type": "choice", "values": [1, 2, 3, 4]}, "y": {"type": "choice", "values": [0]}},
        # Seeded, so the trials come in one fixed order: in ascending order of quality (a grid's
        # random walk can be) no trial would ever be below the median and none would stop.
        algorithm={"type": "random", "seed": 3},
        limits={"max_total_trials": 4, "max_concurrent_trials": 1},
        extra_args="40 0.25",
        script=LIGHT_TRIAL,
        early_termination={"type": "median_stopping", "evaluation_interval": 1, "delay_evaluation": 2},
    )
    sweep = wait_status(sweep, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=240)
    trials = list(sweep.sweep.trials.select_related("job"))
    assert sweep.status == JobStatus.COMPLETED, sweep.failure_reason
    stopped = [t for t in trials if t.state == TrialState.EARLY_TERMINATED]
    assert stopped, [(t.params, t.state) for t in trials]
    for trial in stopped:
        assert trial.job.status == JobStatus.CANCELED and "median_stopping" in trial.terminated_by
        assert _last_step(trial.job) < 39, "stopped before its last step"
    assert len(trials) == 4


def test_a_trial_that_never_logs_the_metric_makes_the_sweep_say_so(node, mlflow_env, workspace, owner):
    api = token_client(owner)
    sweep = _sweep(
        api,
        workspace,
        mlflow_env,
        space={"x": {"type": "choice", "values": [1]}, "y": {"type": "choice", "values": [0]}},
        algorithm="grid",
        limits={"max_total_trials": 1},
        extra_args="0 0",
    )
    sweep = wait_status(sweep, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=120)
    assert sweep.status == JobStatus.FAILED
    assert "without logging the primary metric 'score'" in sweep.failure_reason


def test_canceling_the_sweep_cancels_its_trials(node, mlflow_env, workspace, owner):
    api = token_client(owner)
    sweep = _sweep(
        api,
        workspace,
        mlflow_env,
        space={"x": {"type": "choice", "values": [1, 2]}, "y": {"type": "choice", "values": [0, 1]}},
        algorithm="grid",
        limits={"max_total_trials": 4, "max_concurrent_trials": 2},
        extra_args="200 0.25",
    )
    answer = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/{sweep.name}/cancel/")
    assert answer.status_code == 200, answer.content
    for child in Job.objects.filter(parent=sweep):
        assert wait_status(child, JobStatus.CANCELED, timeout=60)
    sweep.refresh_from_db()
    assert sweep.status == JobStatus.CANCELED
    assert Job.objects.filter(parent=sweep).count() == 4, "the two running and the two ready ahead"


def test_a_bayesian_sweep_runs_on_real_trials_and_its_best_model_is_registered(
    node, mlflow_env, workspace, owner, members, client
):
    api = token_client(owner)
    sweep = _sweep(
        api,
        workspace,
        mlflow_env,
        space={"x": {"type": "uniform", "min_value": 0, "max_value": 1}, "y": {"type": "choice", "values": [0, 1]}},
        algorithm="bayesian",
        limits={"max_total_trials": 4, "max_concurrent_trials": 2},
        extra_args="1 0",
        script=LIGHT_TRIAL,
    )
    sweep = wait_status(sweep, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=180)
    trials = list(sweep.sweep.trials.select_related("job"))
    assert sweep.status == JobStatus.COMPLETED, (sweep.failure_reason, [t.job.failure_reason for t in trials])
    assert len(trials) == 4 and all(t.state == TrialState.COMPLETED for t in trials)
    for trial in trials:
        assert trial.value == pytest.approx(trial.params["x"] + 10 * trial.params["y"])
    best = sweep.sweep.best_trial
    assert best.value == max(t.value for t in trials)
    assert _max_overlap([t.job for t in trials]) <= 2

    client.force_login(members["reader"])
    assert b"register-best" not in client.get(f"/w/{workspace.name}/sweeps/{sweep.name}/").content
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/sweeps/{sweep.name}/").content.decode()
    link = re.search(r'href="([^"]+)" data-action="register-best"', page)[1].replace("&amp;", "&")
    assert f"job={best.job.name}" in link and "path=outputs%2Fmodel" in link
    form = client.get(link)
    assert form.status_code == 200 and best.job.name in form.content.decode()
    answer = client.post(
        link.split("?")[0],
        {"name": "tuned", "source": "job", "job": best.job.name, "job_path": "outputs/model", "type": "custom_model"},
    )
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    from registry.models import ModelVersion

    version = ModelVersion.objects.get(model__workspace=workspace, model__name="tuned")
    assert version.job_id == best.job.pk, "its lineage is the best trial"


def test_bandit_cancels_the_trial_outside_the_slack_while_the_good_one_runs_on(
    node, beat, mlflow_env, workspace, owner
):
    api = token_client(owner)
    sweep = _sweep(
        api,
        workspace,
        mlflow_env,
        # Both trials run at once, so each step of the poor one meets the good one's value there.
        space={"x": {"type": "choice", "values": [1, 4]}, "y": {"type": "choice", "values": [0]}},
        algorithm="grid",
        limits={"max_total_trials": 2, "max_concurrent_trials": 2},
        extra_args="30 0.3",
        script=LIGHT_TRIAL,
        early_termination={"type": "bandit", "slack_factor": 0.2, "delay_evaluation": 2},
    )
    sweep = wait_status(sweep, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=180)
    trials = {t.params["x"]: t for t in sweep.sweep.trials.select_related("job")}
    assert sweep.status == JobStatus.COMPLETED, sweep.failure_reason
    poor, good = trials[1], trials[4]
    assert poor.state == TrialState.EARLY_TERMINATED and "bandit at step" in poor.terminated_by, poor.terminated_by
    assert poor.job.status == JobStatus.CANCELED, "canceled, not left running"
    assert _last_step(poor.job) < 29 and _last_step(good.job) == 29, "the poor one stopped before its last step"
    assert good.state == TrialState.COMPLETED and sweep.sweep.best_trial == good
