"""What ordinary MLflow scripts do, with the real `mlflow` 3 client, against Studio: artifacts,
figures, autolog and logged models from a job's token, runs from a laptop's personal token."""

from __future__ import annotations

import json
import resource
import textwrap

import pytest
from django.test import Client

from jobs import tracking as job_tracking
from jobs.models import Experiment, Job, JobStatus
from registry.models import ModelVersion
from studio.models import ActivityEvent
from tests.conftest import token_client
from tests.tracking.conftest import run_client
from tracking.artifacts import store_for_workspace
from tracking.models import LoggedModel

JOB_SCRIPT = textwrap.dedent(
    """
    import json, os
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.autolog()
    X, y = load_iris(return_X_y=True, as_frame=True)
    with mlflow.start_run() as run:
        model = LogisticRegression(max_iter=200).fit(X, y)
        mlflow.log_dict({"classes": [0, 1, 2]}, "meta/classes.json")
        mlflow.log_text("hello", "notes.txt")
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3])
        mlflow.log_figure(fig, "plots/curve.png")
        with open("local.txt", "w") as f:
            f.write("x" * 1000)
        mlflow.log_artifact("local.txt", "files")
        print("ARTIFACTS", sorted(a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id)))
        print("DICT", mlflow.artifacts.load_dict(run.info.artifact_uri + "/meta/classes.json"))
    logged = mlflow.search_logged_models(output_format="list")
    print("MODELS", [(m.name, str(m.status), m.source_run_id) for m in logged])
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    print("PREDICT", [int(v) for v in loaded.predict(X.head(3))])
    again = mlflow.sklearn.load_model(f"models:/{logged[0].model_id}")
    print("AGAIN", [int(v) for v in again.predict(X.head(2))])
    print("SIGNATURE", loaded.metadata.signature.inputs.input_names()[:2])
    """
)


@pytest.fixture
def job(workspace, owner):
    experiment = Experiment.objects.create(workspace=workspace, name="iris")
    return Job.objects.create(
        workspace=workspace,
        name="calm_fox_aaaaaa",
        experiment=experiment,
        created_by=owner,
        status=JobStatus.RUNNING,
        command="python train.py",
        environment_ref="x@latest",
        compute_name="local",
    )


def test_an_autologged_sklearn_job_keeps_metrics_params_artifacts_and_its_model(
    live_server, mlflow_python, job, owner, transactional_db, tmp_path
):
    env = job_tracking.tracking_env(job, live_server.url)
    result = run_client(mlflow_python, f"import os; os.chdir({str(tmp_path)!r})\n" + JOB_SCRIPT, env)
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout
    listed = json.loads(out.split("ARTIFACTS ", 1)[1].splitlines()[0].replace("'", '"'))
    assert {"files", "meta", "notes.txt", "plots", "training_confusion_matrix.png"} <= set(listed), out
    assert "DICT {'classes': [0, 1, 2]}" in out
    assert "PREDICT [0, 0, 0]" in out and "AGAIN [0, 0]" in out
    assert "SIGNATURE ['sepal length (cm)', 'sepal width (cm)']" in out
    model = LoggedModel.objects.get(source_run=job)
    assert model.status == LoggedModel.Status.READY and model.name == "model"
    assert f"MODELS [('model', 'READY', '{job.name}')]" in out, out

    run = token_client(owner).get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": job.name}).json()["run"]
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    metrics = {m["key"] for m in run["data"]["metrics"]}
    assert params["max_iter"] == "200" and "training_accuracy_score" in metrics
    assert run["info"]["artifact_uri"] == f"mlflow-artifacts:/ws-main/runs/{job.name}/artifacts"
    assert run["outputs"]["model_outputs"] == [{"model_id": model.model_id, "step": 0}]

    # One click from the Outputs tab: the logged model's Register link, then the form it fills in.
    browser = Client()
    browser.force_login(owner)
    tab = browser.get(f"/w/ws-main/jobs/{job.name}/artifacts/").content.decode()
    assert f"uri=models%3A/{model.model_id}&amp;type=mlflow_model" in tab, tab
    posted = browser.post(
        "/w/ws-main/models/new/",
        {"name": "autologged", "type": "mlflow_model", "source": "uri", "uri": f"models:/{model.model_id}"},
    )
    assert posted.status_code == 302, posted.content.decode()[-2000:]
    version = ModelVersion.objects.get(model__name="autologged")
    assert version.type == "mlflow_model" and version.job_id == job.pk
    assert version.mlmodel["signature"]["inputs"][0]["name"] == "sepal length (cm)"


LAPTOP = textwrap.dedent(
    """
    import mlflow
    mlflow.set_experiment("laptop-exp")
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_metric("loss", 0.5)
        mlflow.set_tag("team", "a")
        mlflow.log_text("from my laptop", "readme.txt")
    print("RUN", run.info.run_id)
    print("EXPERIMENTS", [e.name for e in mlflow.search_experiments()])
    print("TEXT", mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/readme.txt"))
    """
)


def test_a_laptop_with_a_personal_token_creates_experiments_and_runs(
    live_server, mlflow_python, workspace, owner, transactional_db
):
    from studio import services

    _, raw = services.do_create_token(user=owner, name="laptop")
    env = {"MLFLOW_TRACKING_URI": live_server.url + "/mlflow", "MLFLOW_TRACKING_TOKEN": raw}
    result = run_client(mlflow_python, LAPTOP, env)
    assert result.returncode == 0, result.stderr[-4000:]
    run_id = result.stdout.split("RUN ", 1)[1].split()[0]
    job = Job.objects.get(name=run_id)
    assert job.status == JobStatus.COMPLETED and job.display_name == "first" and job.created_by == owner
    assert job.experiment.name == "laptop-exp" and job.workspace == workspace
    assert "EXPERIMENTS ['laptop-exp']" in result.stdout and "TEXT from my laptop" in result.stdout
    verbs = set(ActivityEvent.objects.filter(workspace=workspace).values_list("verb", flat=True))
    assert {"experiment.created", "run.created", "run.ended"} <= verbs


def test_a_200_mb_artifact_streams_through_with_bounded_memory(
    live_server, mlflow_python, job, transactional_db, tmp_path
):
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        for _ in range(200):
            handle.write(b"\x01" * 2**20)
    code = textwrap.dedent(
        f"""
        import mlflow, os
        with mlflow.start_run() as run:
            mlflow.log_artifact({str(big)!r}, "data")
        path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="data/big.bin",
                                                   dst_path={str(tmp_path / "back")!r})
        print("SIZE", os.path.getsize(path))
        """
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = run_client(mlflow_python, code, job_tracking.tracking_env(job, live_server.url))
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"SIZE {200 * 2**20}" in result.stdout
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"the server's peak memory grew by {grown_mb:.0f} MB for a 200 MB artifact"


REGISTER = textwrap.dedent(
    """
    import mlflow
    from mlflow import MlflowClient
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    with mlflow.start_run():
        model = LogisticRegression(max_iter=300).fit(X, y)
        info = mlflow.sklearn.log_model(model, name="tree", input_example=X.head(2))
    version = mlflow.register_model(info.model_uri, "iris-tree")
    MlflowClient().set_registered_model_alias("iris-tree", "champion", version.version)
    print("REGISTERED", version.name, version.version)
    """
)

LOAD = textwrap.dedent(
    """
    import mlflow, pandas as pd
    X = pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=["sepal length (cm)", "sepal width (cm)",
                                                       "petal length (cm)", "petal width (cm)"])
    for uri in ("models:/iris-tree@champion", "models:/iris-tree/1"):
        print("LOADED", uri, [int(v) for v in mlflow.pyfunc.load_model(uri).predict(X)])
    print("ALIASES", mlflow.MlflowClient().get_registered_model("iris-tree").aliases)
    """
)


def test_a_job_registers_its_model_and_a_laptop_loads_it_by_alias_and_version(
    live_server, mlflow_python, job, workspace, owner, members, transactional_db, tmp_path
):
    from registry.models import ModelVersion
    from studio import services

    result = run_client(mlflow_python, REGISTER, job_tracking.tracking_env(job, live_server.url))
    assert result.returncode == 0, result.stderr[-4000:]
    assert "REGISTERED iris-tree 1" in result.stdout
    version = ModelVersion.objects.get(model__name="iris-tree", version="1")
    assert version.type == ModelVersion.Type.MLFLOW and version.job == job
    assert version.mlmodel.get("signature"), "the MLmodel file with its signature was read by the registry"

    _, raw = services.do_create_token(user=members["reader"], name="laptop")
    env = {"MLFLOW_TRACKING_URI": live_server.url + "/mlflow", "MLFLOW_TRACKING_TOKEN": raw}
    loaded = run_client(mlflow_python, LOAD, env)
    assert loaded.returncode == 0, loaded.stderr[-4000:]
    assert "LOADED models:/iris-tree@champion [0]" in loaded.stdout
    assert "LOADED models:/iris-tree/1 [0]" in loaded.stdout
    assert "ALIASES {'champion': '1'}" in loaded.stdout

    reader = token_client(members["reader"])
    denied = reader.post("/mlflow/api/2.0/mlflow/registered-models/create", {"name": "mine"}, format="json")
    assert denied.status_code == 403 and denied.json()["error_code"] == "PERMISSION_DENIED"


def test_a_large_artifact_goes_up_in_parts_and_comes_back_whole(
    live_server, mlflow_python, job, transactional_db, tmp_path, monkeypatch
):
    from tracking.api import multipart

    parts = []
    loads = multipart.signing.loads
    monkeypatch.setattr(multipart.signing, "loads", lambda *a, **k: parts.append(1) or loads(*a, **k))
    code = textwrap.dedent(
        f"""
        import hashlib, os
        import mlflow
        data = os.urandom(23 * 2**20)
        with open({str(tmp_path / "weights.bin")!r}, "wb") as f:
            f.write(data)
        with mlflow.start_run() as run:
            mlflow.log_artifact({str(tmp_path / "weights.bin")!r}, "model")
        back = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="model/weights.bin",
                                                   dst_path={str(tmp_path / "back")!r})
        print("SAME", hashlib.sha256(open(back, "rb").read()).digest() == hashlib.sha256(data).digest())
        """
    )
    env = job_tracking.tracking_env(job, live_server.url) | {
        "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": str(5 * 2**20),
        "MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE": str(5 * 2**20),
    }
    result = run_client(mlflow_python, code, env)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "SAME True" in result.stdout
    assert len(parts) == 5, "23 MB in 5 MB parts"
    store = store_for_workspace(job.workspace)
    assert not store.exists(".uploads") or not list(store.walk_files(".uploads")), "parts are cleaned up"
