"""The MLflow tracking subset, driven by the real `mlflow` client in a separate process, the way
a job's script calls it (MLFLOW_* variables from jobs.tracking.tracking_env)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from rest_framework.test import APIClient

from jobs import tracking
from jobs.models import Experiment, Job, JobStatus
from tests.conftest import token_client
from tracking import services

SCRIPT = textwrap.dedent(
    """
    import mlflow
    mlflow.log_param("alpha", 0.5)
    mlflow.log_params({"solver": "lbfgs", "max_iter": 100})
    mlflow.set_tag("stage", "dev")
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"accuracy": 0.93, "f1": 0.91}, step=4)
    mlflow.log_metric("bad", float("nan"))
    run = mlflow.active_run()
    print("RUN", run.info.run_id, run.info.experiment_id)
    mlflow.end_run()
    """
)


@pytest.fixture
def job(workspace, owner):
    experiment = Experiment.objects.create(workspace=workspace, name="diabetes")
    return Job.objects.create(
        workspace=workspace,
        name="sharp_river_7kq2x1",
        experiment=experiment,
        created_by=owner,
        status=JobStatus.RUNNING,
        command="python train.py",
        environment_ref="Studio-minimal@latest",
        compute_name="local",
    )


def run_script(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run([sys.executable, "-c", code], env=clean | env, capture_output=True, text=True, timeout=120)


def test_a_script_logs_metrics_params_and_tags_with_the_real_client(live_server, job, owner, transactional_db):
    result = run_script(SCRIPT, tracking.tracking_env(job, live_server.url))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"RUN sharp_river_7kq2x1 {job.experiment_id}" in result.stdout

    body = token_client(owner).get(f"/api/v1/workspaces/ws-main/jobs/{job.name}/metrics/").json()
    assert [p["value"] for p in body["metrics"]["loss"]] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert [p["step"] for p in body["metrics"]["loss"]] == [0, 1, 2, 3, 4]
    assert body["summary"]["accuracy"]["last"] == 0.93
    assert body["summary"]["loss"] == {"last": 0.2, "min": 0.2, "max": 1.0, "steps": 5, "last_step": 4}
    assert body["metrics"]["bad"][0]["value"] is None
    assert body["params"] == {"alpha": "0.5", "solver": "lbfgs", "max_iter": "100"}
    assert body["tags"]["stage"] == "dev"
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING, "end_run() in a script does not end the job"


def test_params_cannot_change_and_the_error_reaches_the_script(live_server, job, transactional_db):
    code = "import mlflow\nmlflow.log_param('a', 1)\nmlflow.log_param('a', 2)\n"
    result = run_script(code, tracking.tracking_env(job, live_server.url))
    assert result.returncode != 0
    assert "already logged with value '1'" in result.stderr


def test_a_job_token_reaches_only_its_own_run(live_server, job, workspace, owner, transactional_db):
    other = Job.objects.create(
        workspace=workspace,
        name="other_run",
        experiment=job.experiment,
        created_by=owner,
        status=JobStatus.RUNNING,
        command="x",
        environment_ref="e",
        compute_name="local",
    )
    raw = tracking.issue_job_token(job)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    denied = api.post(
        "/mlflow/api/2.0/mlflow/runs/log-metric",
        {"run_id": other.name, "key": "x", "value": 1, "timestamp": 1},
        format="json",
    )
    assert denied.status_code == 403 and denied.json()["error_code"] == "PERMISSION_DENIED"
    assert api.get("/api/v1/workspaces/ws-main/").status_code == 401, "a job token is not a personal token"
    tracking.revoke_job_tokens(job)
    ended = api.post(
        "/mlflow/api/2.0/mlflow/runs/log-metric",
        {"run_id": job.name, "key": "x", "value": 1, "timestamp": 1},
        format="json",
    )
    assert ended.status_code == 401


def test_members_read_runs_and_only_the_submitter_writes(job, members, owner):
    reader = token_client(members["reader"])
    got = reader.get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": job.name})
    assert got.status_code == 200 and got.json()["run"]["info"]["status"] == "RUNNING"
    write = reader.post(
        "/mlflow/api/2.0/mlflow/runs/log-metric", {"run_id": job.name, "key": "x", "value": 1}, format="json"
    )
    assert write.status_code == 403 and write.json()["error_code"] == "PERMISSION_DENIED"
    scientist = token_client(members["data_scientist"])
    other = scientist.post(
        "/mlflow/api/2.0/mlflow/runs/log-metric", {"run_id": job.name, "key": "x", "value": 2, "step": 3}, format="json"
    )
    assert other.status_code == 403, "jobs.submit alone does not write into someone else's run"
    renamed = scientist.post(
        "/mlflow/api/2.0/mlflow/runs/update", {"run_id": job.name, "run_name": "mine"}, format="json"
    )
    assert renamed.status_code == 403
    ok = token_client(owner).post(
        "/mlflow/api/2.0/mlflow/runs/log-metric", {"run_id": job.name, "key": "x", "value": 2, "step": 3}, format="json"
    )
    assert ok.status_code == 200
    history = reader.get("/mlflow/api/2.0/mlflow/metrics/get-history", {"run_id": job.name, "metric_key": "x"}).json()
    assert history["metrics"][0]["value"] == 2.0 and history["metrics"][0]["step"] == 3


def test_outsiders_and_anonymous_callers_are_refused(job, outsider, api):
    assert api.get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": job.name}).status_code == 401
    assert token_client(outsider).get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": job.name}).status_code == 404


@pytest.mark.parametrize(
    "body, message",
    [
        ({"key": "loss", "value": "abc", "timestamp": 1}, "not a number"),
        ({"key": "", "value": 1, "timestamp": 1}, "Invalid metric name"),
        ({"key": "../x", "value": 1, "timestamp": 1}, "'..' segments"),
        ({"key": "loss", "value": 1, "step": "one"}, "must be an integer"),
    ],
)
def test_bad_metric_input_is_a_clear_mlflow_error(job, owner, body, message):
    response = token_client(owner).post(
        "/mlflow/api/2.0/mlflow/runs/log-metric", {"run_id": job.name, **body}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["message"]


def test_malformed_json_and_oversized_batches_are_refused(job, owner):
    api = token_client(owner)
    bad = api.generic("POST", "/mlflow/api/2.0/mlflow/runs/log-batch", "{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error_code"] == "MALFORMED_REQUEST"
    huge = {"run_id": job.name, "metrics": [{"key": "m", "value": 1, "timestamp": 1}] * 1001}
    too_many = api.post("/mlflow/api/2.0/mlflow/runs/log-batch", json.dumps(huge), content_type="application/json")
    assert too_many.status_code == 400 and "at most 1000 metrics" in too_many.json()["message"]
    assert job.metrics.count() == 0, "nothing of a refused batch is stored"


def test_runs_get_reports_the_last_point_of_each_metric(job, owner):
    services.do_log_batch(
        job,
        [
            {"key": "loss", "value": 0.9, "step": 0, "timestamp": 5},
            {"key": "loss", "value": 0.1, "step": 2, "timestamp": 1},
            {"key": "loss", "value": 0.5, "step": 1, "timestamp": 9},
            {"key": "acc", "value": float("nan"), "step": 0, "timestamp": 1},
        ],
        [],
        [],
    )
    run = token_client(owner).get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": job.name}).json()["run"]
    assert run["data"]["metrics"] == [
        {"key": "acc", "value": "NaN", "timestamp": 1, "step": 0},
        {"key": "loss", "value": 0.1, "timestamp": 1, "step": 2},
    ]
    assert tracking.metric_summary(job)["loss"] == {"min": 0.1, "max": 0.9, "steps": 3, "last": 0.1, "last_step": 2}


def test_a_batch_keeps_every_point_exactly_whatever_its_key(job, owner):
    """Points are written as column arrays: keys that look like array or SQL syntax, NaN, the
    largest floats and 64-bit steps come back as sent."""
    keys = ["a,b", "{x}", 'q"uote', "back\\slash", "it's; DROP TABLE jobs_metric; --", "NULL", "ünï/cödé"]
    points = [
        {"key": k, "value": i - 0.5, "step": 2**62 + i, "timestamp": 1700000000000 + i} for i, k in enumerate(keys)
    ]
    points += [
        {"key": "nan", "value": "NaN", "step": 0, "timestamp": 1},
        {"key": "big", "value": 1e308, "timestamp": 1},
    ]
    api = token_client(owner)
    sent = api.post(
        "/mlflow/api/2.0/mlflow/runs/log-batch",
        json.dumps({"run_id": job.name, "metrics": points}),
        content_type="application/json",
    )
    assert sent.status_code == 200, sent.content
    for i, key in enumerate(keys):
        history = api.get("/mlflow/api/2.0/mlflow/metrics/get-history", {"run_id": job.name, "metric_key": key})
        assert history.json()["metrics"] == [
            {"key": key, "value": i - 0.5, "timestamp": 1700000000000 + i, "step": 2**62 + i}
        ]
    run = api.get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": job.name}).json()["run"]
    latest = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    assert latest["nan"] == "NaN" and latest["big"] == 1e308 and len(latest) == len(keys) + 2
    assert job.metrics.count() == len(points)


NESTED = textwrap.dedent(
    """
    import mlflow
    with mlflow.start_run() as parent:
        for lr in (0.1, 0.01):
            with mlflow.start_run(nested=True, run_name=f"lr-{lr}") as child:
                mlflow.log_param("lr", lr)
                mlflow.log_metric("loss", lr * 2)
        found = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
                                   order_by=["params.lr ASC"], output_format="list")
        print("CHILDREN", [r.info.run_name for r in found])
    """
)


def test_a_job_starts_nested_runs_under_itself(live_server, job, transactional_db):
    result = run_script(NESTED, tracking.tracking_env(job, live_server.url))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "CHILDREN ['lr-0.01', 'lr-0.1']" in result.stdout
    children = Job.objects.filter(run_tags__key="mlflow.parentRunId", run_tags__value=job.name)
    assert sorted(children.values_list("display_name", flat=True)) == ["lr-0.01", "lr-0.1"]
    assert set(children.values_list("status", flat=True)) == {JobStatus.COMPLETED}
    assert all(c.experiment_id == job.experiment_id and c.created_by == job.created_by for c in children)
