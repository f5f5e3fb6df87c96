"""The whole story of a training job: it prints, logs metrics with the real `mlflow` client against
Studio's tracking endpoint (variables set by the runner), writes outputs/model.pkl, completes, and
everything shows through the API."""

from __future__ import annotations

import sys

from jobs.models import JobStatus
from tests.conftest import token_client
from tests.jobs.conftest import make_environment, wait_status
from tests.jobs.test_run_venv import submit

TRAIN = """
import os, pickle
import mlflow

print("training with", os.environ["MLFLOW_EXPERIMENT_NAME"])
mlflow.log_param("lr", 0.1)
for step in range(5):
    mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
mlflow.log_metrics({"accuracy": 0.9, "f1": 0.8})
mlflow.set_tag("framework", "none")
os.makedirs("outputs", exist_ok=True)
pickle.dump({"w": 1}, open("outputs/model.pkl", "wb"))
print("token is masked:", os.environ["MLFLOW_TRACKING_TOKEN"])
"""


def test_a_job_logs_mlflow_metrics_writes_a_model_and_completes(live_server, node, workspace, owner, settings):
    settings.STUDIO_PUBLIC_URL = live_server.url
    # Studio's own interpreter has mlflow-skinny (requirements-dev.txt): a user-managed environment
    # runs it as it is, so the test does not depend on building one from the package index.
    make_environment(workspace, owner, "with-mlflow", user_managed_dependencies=True, interpreter_path=sys.executable)
    api = token_client(owner)
    job = submit(
        api,
        workspace,
        {"command": "python train.py", "environment": "with-mlflow:1", "experiment_name": "tracked"},
        code={"train.py": TRAIN},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED))
    base = f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}"
    text = api.get(f"{base}/logs/").json()["text"]
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, text)
    assert "training with tracked" in text
    assert "token is masked: ***" in text
    metrics = api.get(f"{base}/metrics/").json()
    assert [p["value"] for p in metrics["metrics"]["loss"]] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert metrics["summary"]["accuracy"]["last"] == 0.9
    assert metrics["params"] == {"lr": "0.1"} and metrics["tags"]["framework"] == "none"
    files = api.get(f"{base}/outputs/").json()["files"]
    assert [f["path"] for f in files] == ["model.pkl"]
