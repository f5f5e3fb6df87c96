"""Jobs use models: a model input materialised into the job, an output registered as a model
version produced by the job, lineage both ways; bad references refused at submission."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import JobStatus
from registry import services
from registry.models import ModelUsage
from tests.conftest import token_client
from tests.jobs.conftest import make_zip, wait_status
from tests.jobs.test_run_venv import submit
from tests.registry.conftest import write_mlflow_model

TUNE = """
import pathlib, shutil, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
print("input files:", sorted(p.name for p in src.iterdir()))
shutil.copytree(src, out, dirs_exist_ok=True)
(out / "tuned.txt").write_text("tuned\\n")
"""


def _model_job(workspace, owner, tmp_path, compute: str):
    """Register iris:1 (alias champion), then run a job on `compute` that reads it and writes a
    tuned copy registered as iris-tuned; returns (base version, job, api client)."""
    model_dir = write_mlflow_model(tmp_path / "model")
    sink = services.upload_sink_for(workspace)
    for path in model_dir.iterdir():
        sink.open(path.name).write(path.read_bytes())
        sink.finish()
    base = services.do_create_model_version_from_upload(workspace, sink, actor=owner, name="iris")
    services.do_set_alias(base, "champion", actor=owner)
    api = token_client(owner)
    job = submit(
        api,
        workspace,
        {
            "command": "python tune.py ${{inputs.model}} ${{outputs.tuned}}",
            "environment": "azureml:plain:1",
            "compute": f"azureml:{compute}",
            "inputs": {"model": {"type": "mlflow_model", "path": "azureml:iris@champion"}},
            "outputs": {"tuned": {"type": "mlflow_model", "name": "iris-tuned"}},
            "experiment_name": "tuning",
        },
        code={"tune.py": TUNE},
    )
    assert job.inputs["model"]["model"] == "iris:1"  # pinned at submission
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=150)
    logs = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()["text"]
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, logs)
    assert "'MLmodel'" in logs and "'model.pkl'" in logs
    return base, job, api


def test_a_job_reads_a_model_and_registers_its_output_as_a_model(node, workspace, owner, plain_env, tmp_path):
    base, job, api = _model_job(workspace, owner, tmp_path, "local")
    tuned = services.resolve(workspace, "iris-tuned@latest")
    assert (tuned.version, tuned.type, tuned.job_id) == ("1", "mlflow_model", job.pk)
    assert tuned.source == f"azureml://jobs/{job.name}/outputs/tuned"
    assert "tuned.txt" in [e.path for e in services.list_files(tuned)]
    assert set(tuned.mlmodel["flavors"]) == {"python_function", "sklearn"}
    assert job.outputs["tuned"]["asset"] == "iris-tuned:1"
    assert ModelUsage.objects.filter(version=base, job_name=job.name, direction="input", port="model").exists()
    assert ModelUsage.objects.filter(version=tuned, job_name=job.name, direction="output", port="tuned").exists()
    browser = Client()
    browser.force_login(job.created_by)
    html = browser.get(f"/w/{workspace.name}/jobs/{job.name}/").content.decode()
    assert f'registered as <a href="/w/{workspace.name}/models/iris-tuned/">iris-tuned:1</a>' in html
    detail = api.get(f"/api/v1/workspaces/{workspace.name}/models/iris/versions/1/").json()
    assert {"job": job.name, "direction": "input", "name": "model"}.items() <= detail["used_by"][0].items()


@pytest.mark.docker
def test_a_docker_job_reads_a_model_and_registers_its_output(
    node, workspace, owner, plain_env, docker_target, tmp_path
):
    _, job, _ = _model_job(workspace, owner, tmp_path, "dock")
    tuned = services.resolve(workspace, "iris-tuned:1")
    assert tuned.job_id == job.pk and "tuned.txt" in [e.path for e in services.list_files(tuned)]


def test_bad_model_references_are_refused_at_submission(workspace, owner, plain_env, no_dispatch):
    api = token_client(owner)
    code = api.post(
        f"/api/v1/workspaces/{workspace.name}/codes/", {"file": make_zip({"a.py": "print(1)"})}, format="multipart"
    ).json()["id"]
    body = {
        "command": "python a.py ${{inputs.model}}",
        "environment": "azureml:plain:1",
        "compute": "azureml:local",
        "code": code,
    }
    for path, message in (
        ("azureml:nope:1", "There is no model nope:1"),
        ("azureml:nope@latest", "There is no model nope@latest"),
        ("runs:/x/model", "names a registered model"),
        ("azureml:bad name", "is not a model reference"),
    ):
        response = api.post(
            f"/api/v1/workspaces/{workspace.name}/jobs/",
            {**body, "inputs": {"model": {"type": "custom_model", "path": path}}},
            format="json",
        )
        assert response.status_code == 400, path
        assert message in " ".join(response.json()["errors"]["inputs.model"]), response.json()
    bad_output = api.post(
        f"/api/v1/workspaces/{workspace.name}/jobs/",
        {**body, "command": "python a.py", "outputs": {"m": {"type": "custom_model", "name": "bad name"}}},
        format="json",
    )
    assert bad_output.status_code == 400 and "is not a model name" in str(bad_output.json()["errors"])
    assert not no_dispatch


def test_the_job_form_takes_a_model_input_and_a_model_output(client, workspace, owner, plain_env, trained_job):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jobs.models import Job

    services.do_create_model_version(
        workspace, actor=owner, name="iris", path=f"runs:/{trained_job.name}/outputs/model"
    )
    client.force_login(owner)
    response = client.post(
        f"/w/{workspace.name}/new/job/",
        {
            "code_source": "folder",
            "code_folder": [SimpleUploadedFile("score.py", b"print(1)")],
            "code_paths": ["proj/score.py"],
            "command": "python score.py ${{inputs.model}} ${{outputs.scored}}",
            "environment": "plain",
            "environment_version": "1",
            "compute": "local",
            "experiment": "__new__",
            "new_experiment": "scoring",
            "display_name": "Score with a model",
            "inputs": "model=mlflow_model:azureml:iris@latest",
            "outputs": "scored=custom_model -> iris-scored",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    job = Job.objects.get(display_name="Score with a model")
    assert job.inputs["model"]["model"] == "iris:1"
    assert job.outputs["scored"] == {"type": "custom_model", "mode": "rw_mount", "name": "iris-scored"}
    assert ModelUsage.objects.filter(job_name=job.name, direction="input", port="model").exists()
