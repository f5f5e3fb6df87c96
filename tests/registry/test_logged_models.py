"""One click from a run's MLflow 3 logged model (what `mlflow.autolog()` / `log_model` make) to a
registered `mlflow_model` version: the Outputs tab lists it with a Register link, and the register
page pre-filled by that link registers `models:/<id>` with its signature and the run as lineage."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

from rest_framework.test import APIClient

from jobs import services as job_services
from jobs import tracking as job_tracking
from jobs.models import JobStatus
from jobs.runner.lifecycle import advance
from registry.models import ModelVersion
from tests.registry.conftest import SIGNATURE_INPUTS, finish_job, write_mlflow_model

API = "/mlflow/api/2.0/mlflow/"
ARTIFACTS = "/mlflow/api/2.0/mlflow-artifacts/artifacts/"


def log_model_as_the_job_does(job, tmp_path) -> str:
    """What `mlflow.sklearn.log_model` sends with the job's token: create, upload files, finalize."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {job_tracking.issue_job_token(job)}")
    created = api.post(
        API + "logged-models",
        {"experiment_id": str(job.experiment_id), "source_run_id": job.name, "name": "model", "model_type": "sklearn"},
        format="json",
    )
    assert created.status_code == 200, created.content
    model_id = created.json()["model"]["info"]["model_id"]
    folder = write_mlflow_model(tmp_path / "logged", run_id=job.name)
    for file in folder.iterdir():
        path = f"{job.workspace.name}/models/{model_id}/artifacts/{file.name}"
        assert api.generic("PUT", ARTIFACTS + path, file.read_bytes()).status_code == 200
    done = api.patch(API + f"logged-models/{model_id}", {"status": "LOGGED_MODEL_READY"}, format="json")
    assert done.status_code == 200, done.content
    return model_id


def test_a_logged_model_registers_in_one_click_from_the_outputs_tab(
    client, workspace, owner, members, no_dispatch, plain_env, tmp_path
):
    job = job_services.do_submit_job(
        workspace, actor=owner, data={"command": "python train.py", "environment": "plain:1", "experiment_name": "iris"}
    )
    advance(job.pk, JobStatus.QUEUED, JobStatus.PREPARING, node="n")
    advance(job.pk, JobStatus.PREPARING, JobStatus.RUNNING)
    job.refresh_from_db()
    model_id = log_model_as_the_job_does(job, tmp_path)
    finish_job(job)  # the run ends without an outputs/model folder: the logged model is all there is

    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/jobs/{job.name}/outputs/").content.decode()
    assert 'data-action="register-model"' not in page  # no outputs/model folder to pre-fill
    tab = client.get(f"/w/{workspace.name}/jobs/{job.name}/artifacts/").content.decode()
    assert "Logged models" in tab and model_id in tab and "sklearn" in tab
    link = html.unescape(tab.split('data-action="register-logged-model"')[0].rsplit('href="', 1)[1].split('"')[0])
    url = urlsplit(link)
    assert url.path == f"/w/{workspace.name}/models/new/"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["uri"] == f"models:/{model_id}" and query["type"] == "mlflow_model"

    form = client.get(link).content.decode()
    assert f'value="models:/{model_id}"' in form and 'value="mlflow_model" selected' in form

    posted = client.post(
        url.path,
        {"name": query["name"], "type": "mlflow_model", "source": "uri", "uri": query["uri"], "tags": ""},
    )
    assert posted.status_code == 302, posted.content.decode()[-3000:]
    version = ModelVersion.objects.get(model__name=query["name"])
    assert version.type == ModelVersion.Type.MLFLOW and version.source.rstrip("/") == f"models:/{model_id}"
    assert [c["name"] for c in version.mlmodel["signature"]["inputs"]] == [c["name"] for c in SIGNATURE_INPUTS]
    assert version.job_id == job.pk and version.job_name == job.name

    # A reader sees the logged model but is offered no Register button.
    client.force_login(members["reader"])
    read_only = client.get(f"/w/{workspace.name}/jobs/{job.name}/artifacts/").content.decode()
    assert model_id in read_only and "register-logged-model" not in read_only


def test_the_outputs_model_button_stays_for_a_job_that_wrote_that_folder(client, workspace, owner, trained_job):
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/jobs/{trained_job.name}/outputs/").content.decode()
    assert "path=outputs/model" in page and 'data-action="register-model"' in page
    assert "Logged models" not in client.get(f"/w/{workspace.name}/jobs/{trained_job.name}/artifacts/").content.decode()
