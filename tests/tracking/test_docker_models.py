"""The model round trip on the docker backend, in the curated scikit-learn environment as a user
would pick it: one job autologs a training and registers its model under an alias, a second job
loads `models:/…@alias` and predicts with it. Both talk to Studio with the real `mlflow` client
from inside their containers."""

from __future__ import annotations

import pytest

from environments import curated
from jobs.models import JobStatus
from registry.models import ModelVersion
from tests.conftest import token_client
from tests.jobs.conftest import wait_status
from tests.jobs.test_run_venv import submit

TRAIN = """
import mlflow
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

mlflow.autolog()
X, y = load_iris(return_X_y=True, as_frame=True)
with mlflow.start_run() as run:
    DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
logged = mlflow.last_logged_model()
version = mlflow.register_model(logged.model_uri, "iris-docker")
mlflow.MlflowClient().set_registered_model_alias("iris-docker", "champion", version.version)
print("REGISTERED", version.name, version.version)
"""

SCORE = """
import mlflow
import pandas as pd

model = mlflow.pyfunc.load_model("models:/iris-docker@champion")
rows = pd.DataFrame([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]],
                    columns=["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"])
print("PREDICTED", [int(v) for v in model.predict(rows)])
"""


@pytest.mark.docker
def test_a_docker_job_registers_its_model_and_a_second_job_loads_it_by_alias(
    live_server, node, docker_target, workspace, owner, settings
):
    settings.STUDIO_PUBLIC_URL = live_server.url
    curated.sync()
    api = token_client(owner)
    common = {"environment": "azureml:Studio-sklearn-1.9@latest", "compute": f"azureml:{docker_target.name}"}
    base = f"/api/v1/workspaces/{workspace.name}/jobs"

    train = submit(api, workspace, {**common, "command": "python train.py"}, code={"train.py": TRAIN})
    train = wait_status(train, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=900)
    log = api.get(f"{base}/{train.name}/logs/").json()["text"]
    assert train.status == JobStatus.COMPLETED, (train.failure_reason, log[-3000:])
    assert "REGISTERED iris-docker 1" in log
    version = ModelVersion.objects.get(workspace=workspace, model__name="iris-docker", version="1")
    assert version.job == train and version.type == ModelVersion.Type.MLFLOW
    assert version.mlmodel.get("signature"), "autolog's signature reached the registry"

    score = submit(api, workspace, {**common, "command": "python score.py"}, code={"score.py": SCORE})
    score = wait_status(score, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=300)
    log = api.get(f"{base}/{score.name}/logs/").json()["text"]
    assert score.status == JobStatus.COMPLETED, (score.failure_reason, log[-3000:])
    assert "PREDICTED [0, 2]" in log
