"""A real job (the runner, venv backend) whose script autologs a scikit-learn training with the
real `mlflow` 3 client, logs a figure, a dict and a model: it completes with everything visible."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings

from jobs.models import JobStatus
from tests.conftest import token_client
from tests.jobs.conftest import make_environment, wait_status
from tests.jobs.test_run_venv import submit
from tracking.models import LoggedModel

TRAIN = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

mlflow.autolog()
X, y = load_iris(return_X_y=True, as_frame=True)
with mlflow.start_run():
    LogisticRegression(max_iter=200).fit(X, y)
    fig, ax = plt.subplots()
    ax.plot([3, 1, 2])
    mlflow.log_figure(fig, "plots/curve.png")
    mlflow.log_dict({"rows": len(X)}, "meta.json")
print("trained")
"""


@pytest.fixture(autouse=True)
def _clean_job_dirs():
    yield
    shutil.rmtree(settings.STUDIO_JOBS_DIR, ignore_errors=True)


def test_an_autologging_job_ends_with_metrics_params_model_signature_and_artifacts(
    live_server,
    node,
    mlflow_python,
    workspace,
    owner,
    settings,
):
    settings.STUDIO_PUBLIC_URL = live_server.url
    make_environment(workspace, owner, "mlflow-full", user_managed_dependencies=True, interpreter_path=mlflow_python)
    api = token_client(owner)
    job = submit(
        api,
        workspace,
        {
            "command": "python train.py",
            "environment": "mlflow-full:1",
            "experiment_name": "autolog",
            "tags": {"team": "vision"},
        },
        code={"train.py": TRAIN},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=300)
    base = f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}"
    log = api.get(f"{base}/logs/").json()["text"]
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, log[-3000:])
    assert "404" not in log and "trained" in log
    run = api.get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": job.name}).json()["run"]
    assert {"key": "team", "value": "vision"} in run["data"]["tags"], "the job's tags are run tags"
    assert "training_accuracy_score" in {m["key"] for m in run["data"]["metrics"]}
    assert {"key": "max_iter", "value": "200"} in run["data"]["params"]
    model = LoggedModel.objects.get(source_run=job)
    assert model.status == LoggedModel.Status.READY
    files = api.get(
        "/mlflow/api/2.0/mlflow-artifacts/artifacts", {"path": f"{workspace.name}/models/{model.model_id}/artifacts"}
    ).json()["files"]
    assert "MLmodel" in {f["path"] for f in files}
    mlmodel = api.get(
        f"/mlflow/api/2.0/mlflow-artifacts/artifacts/{workspace.name}/models/{model.model_id}/artifacts/MLmodel"
    )
    assert b"signature:" in b"".join(mlmodel.streaming_content if mlmodel.streaming else [mlmodel.content])
    listed = api.get(
        "/mlflow/api/2.0/mlflow-artifacts/artifacts", {"path": f"{workspace.name}/runs/{job.name}/artifacts"}
    ).json()["files"]
    assert {"plots", "meta.json"} <= {f["path"] for f in listed}
