"""MLflow models deployed with no scoring script: a real scikit-learn model logged and registered
by a real job, deployed with neither code nor environment (both come from the model), and scored
through the router with a key in Azure's and MLflow's body shapes."""

from __future__ import annotations

import pytest

from endpoints import instances
from jobs.artifacts import outputs_root
from jobs.models import Job, JobStatus
from registry.models import ModelVersion
from tests.conftest import token_client
from tests.endpoints.helpers import wait_ready
from tests.jobs.conftest import make_environment, wait_status
from tests.jobs.test_run_venv import submit
from tests.tracking.conftest import mlflow_python  # noqa: F401 - fixture

TRAIN = """
import mlflow
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True, as_frame=True)
with mlflow.start_run():
    model = LogisticRegression(max_iter=300).fit(X, y)
    mlflow.sklearn.log_model(model, name="model", input_example=X.head(2), registered_model_name="iris-clf")
print("logged")
"""

COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]  # a setosa (0) and a virginica (2)


@pytest.fixture
def iris_model(live_server, node, mlflow_python, workspace, owner, settings):  # noqa: F811
    """A model version registered by a real job with the real mlflow client (`mlflow.sklearn.log_model`)."""
    settings.STUDIO_PUBLIC_URL = live_server.url
    make_environment(workspace, owner, "mlflow-full", user_managed_dependencies=True, interpreter_path=mlflow_python)
    job = submit(
        token_client(owner),
        workspace,
        {"command": "python train.py", "environment": "mlflow-full:1"},
        code={"train.py": TRAIN},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=300)
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    version = ModelVersion.objects.get(model__name="iris-clf", version="1")
    assert version.type == ModelVersion.Type.MLFLOW
    return version


@pytest.mark.timeout(900)  # a real training job, then a venv with mlflow built from PyPI (cached by uv)
def test_an_mlflow_model_deploys_with_no_script_and_scores_azure_and_mlflow_bodies(
    client, workspace, owner, iris_model
):
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}/online-endpoints/"
    assert api.post(base, {"name": "iris-ep"}, format="json").status_code == 201
    created = api.post(f"{base}iris-ep/deployments/", {"name": "blue", "model": "azureml:iris-clf:1"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["code_configuration"] is None
    # The environment comes from the model's own requirements (plus the server), as a workspace environment.
    assert created.json()["environment"] == "azureml:iris-clf-mlflow-env:1"
    assert api.patch(f"{base}iris-ep/", {"traffic": {"blue": 100}}, format="json").status_code == 200
    try:
        wait_ready(["blue"], timeout=600)
        key = api.get(f"{base}iris-ep/keys/").json()["primary_key"]
        url = f"/endpoints/{workspace.name}/iris-ep/score"

        def score(body):
            return client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")

        azure = score({"input_data": {"columns": COLUMNS, "index": [0, 1], "data": ROWS}})
        assert azure.status_code == 200, azure.content
        assert azure.json() == {"predictions": [0, 2]}
        split = score({"dataframe_split": {"columns": COLUMNS, "data": ROWS}})
        assert split.status_code == 200 and split.json() == {"predictions": [0, 2]}
        records = score({"dataframe_records": [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]})
        assert records.status_code == 200 and records.json() == {"predictions": [0, 2]}
        inputs = score({"inputs": {c: [r[i] for r in ROWS] for i, c in enumerate(COLUMNS)}})
        assert inputs.status_code == 200 and inputs.json() == {"predictions": [0, 2]}

        unknown = score({"rows": ROWS})
        assert unknown.status_code == 400 and "dataframe_split" in unknown.json()["error"]
        assert (
            client.post(
                url,
                {"input_data": {"columns": COLUMNS, "data": ROWS}},
                content_type="application/json",
                HTTP_AUTHORIZATION="Bearer wrong",
            ).status_code
            == 401
        )
    finally:
        instances.stop_all()

    # The same model scores files in a batch with no driver either (Studio's pyfunc driver), in
    # the same environment (one build).
    from tests.endpoints.test_batch import _data_asset

    batch = f"/api/v1/workspaces/{workspace.name}/batch-endpoints/"
    assert api.post(batch, {"name": "iris-batch"}, format="json").status_code == 201
    made = api.post(
        f"{batch}iris-batch/deployments/",
        {"name": "blue", "model": "azureml:iris-clf:1", "compute": "local", "settings": {"mini_batch_size": 1}},
        format="json",
    )
    assert made.status_code == 201 and made.json()["environment"] == "azureml:iris-clf-mlflow-env:1", made.content
    header = ",".join(f'"{c}"' for c in COLUMNS)
    files = {f"{n}.csv": f"{header}\n{','.join(map(str, row))}\n" for n, row in zip("ab", ROWS, strict=True)}
    invoked = api.post(
        f"{batch}iris-batch/invoke/", {"input": _data_asset(workspace, owner, "iris", files)}, format="json"
    )
    assert invoked.status_code == 201, invoked.content
    job = wait_status(Job.objects.get(name=invoked.json()["name"]), (JobStatus.COMPLETED, JobStatus.FAILED), 300)
    assert job.status == JobStatus.COMPLETED, (
        job.failure_reason,
        list(Job.objects.filter(parent=job).values_list("failure_reason", "error_excerpt")),
    )
    with open(outputs_root(job) / "score" / "predictions.csv") as handle:
        assert handle.read().split() == ["file,prediction", "a.csv,0", "b.csv,2"]


def test_only_an_mlflow_model_deploys_without_a_script(workspace, owner):
    from registry import services as registry

    sink = registry.upload_sink_for(workspace)
    sink.open("model.pkl").write(b"a pickle")
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="custom")
    make_environment(workspace, owner, "plain")
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}/online-endpoints/"
    api.post(base, {"name": "custom-ep"}, format="json")
    bad = api.post(
        f"{base}custom-ep/deployments/",
        {"name": "blue", "model": "azureml:custom:1", "environment": "azureml:plain:1"},
        format="json",
    )
    assert bad.status_code == 400
    assert "only an mlflow_model deploys with no script" in bad.json()["errors"]["code_configuration"][0]
