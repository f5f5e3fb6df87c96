"""Deleting a workspace that has jobs: it says what goes, asks for the name, then removes its
jobs, logs, outputs, code snapshots and the environment builds no other workspace shares
(instead of the 500 a protected foreign key used to give)."""

from __future__ import annotations

from pathlib import Path

from compute.backends import get_backend
from datastores.models import Datastore
from datastores.storage import builtin_location
from environments.models import EnvironmentBuild
from jobs import artifacts
from jobs import services as job_services
from jobs.models import Job, JobStatus
from jobs.runner.lifecycle import advance
from studio.models import LogChunk, Workspace
from tests.conftest import token_client
from tests.factories import make_workspace
from tests.jobs.conftest import make_environment, make_zip, wait_status

WRITER = (
    "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/model.txt', 'w').write('weights')\nprint('done')\n"
)


def run_job(workspace, owner, files: dict) -> Job:
    snapshot = job_services.do_create_code_snapshot(workspace, actor=owner, zip_file=make_zip(files))
    job = job_services.do_submit_job(
        workspace, actor=owner, data={"command": "python train.py", "environment": "plain:1"}, code=snapshot
    )
    return wait_status(job, JobStatus.COMPLETED, timeout=180)


def test_deleting_a_workspace_with_jobs_asks_then_removes_what_is_only_its_own(node, workspace, owner, monkeypatch):
    make_environment(workspace, owner, "plain")
    job = run_job(workspace, owner, {"train.py": WRITER})
    shared_job = run_job(workspace, owner, {"train.py": WRITER + "# shared\n"})
    node.join(60)
    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: None)
    running = job_services.do_submit_job(workspace, actor=owner, data={"command": "sleep 1", "environment": "plain:1"})
    advance(running.pk, JobStatus.QUEUED, JobStatus.PREPARING, node="far@host")
    advance(running.pk, JobStatus.PREPARING, JobStatus.RUNNING)

    other = make_workspace(owner, "ws-keep")
    make_environment(other, owner, "same-spec")  # same content, so the same build
    job_services.do_create_code_snapshot(other, actor=owner, zip_file=make_zip({"train.py": WRITER + "# shared\n"}))

    build = EnvironmentBuild.objects.filter(version__environment__workspace=workspace, backend="venv").first()
    venv = get_backend("venv").path_for(build.spec_hash)
    own_code, shared_code = job.code.path, shared_job.code.path
    outputs = artifacts.outputs_root(job)
    blob = Datastore.objects.get(workspace=workspace, name="workspaceblobstore")
    blob_folder = Path(builtin_location(blob.workspace_storage_key, blob.name))
    blob_folder.mkdir(parents=True, exist_ok=True)
    (blob_folder / "upload.csv").write_text("a,b\n")
    assert venv.is_dir() and own_code.is_dir() and shared_code.is_dir() and outputs.is_dir()
    assert LogChunk.objects.filter(stream__startswith=job.log_prefix).exists()

    api = token_client(owner)
    refused = api.delete("/api/v1/workspaces/ws-main/")
    assert refused.status_code == 409
    message = refused.json()["errors"]["confirm"][0]
    assert "3 jobs" in message and "1 running job" in message and "confirm=ws-main" in message
    assert Job.objects.filter(workspace=workspace).count() == 3

    assert api.delete("/api/v1/workspaces/ws-main/?confirm=ws-main").status_code == 204
    assert not Workspace.objects.filter(name="ws-main").exists()
    assert not Job.objects.filter(pk__in=[job.pk, shared_job.pk, running.pk]).exists()
    assert not LogChunk.objects.filter(stream__startswith=job.log_prefix).exists()
    assert not LogChunk.objects.filter(stream=build.log_stream).exists()
    assert not outputs.exists() and not own_code.exists() and not blob_folder.exists()
    assert shared_code.is_dir(), "ws-keep holds the same snapshot"
    assert venv.is_dir(), "ws-keep's environment has the same spec hash"

    assert api.delete("/api/v1/workspaces/ws-keep/?confirm=ws-keep").status_code == 204
    assert not venv.exists() and not shared_code.exists(), "nobody uses them any more"


def test_the_confirmation_page_says_what_goes_and_deletes_on_the_name(node, workspace, owner, client):
    make_environment(workspace, owner, "plain")
    run_job(workspace, owner, {"train.py": WRITER})
    client.force_login(owner)
    page = client.get("/w/ws-main/delete/").content.decode()
    assert "1 job" in page and "1 environment" in page and "1 experiment" in page
    wrong = client.post("/w/ws-main/delete/", {"confirm": "ws"})
    assert wrong.status_code == 200 and Workspace.objects.filter(name="ws-main").exists()
    assert client.post("/w/ws-main/delete/", {"confirm": "ws-main"}).status_code == 302
    assert not Workspace.objects.filter(name="ws-main").exists()


def test_an_empty_workspace_is_deleted_without_a_confirmation(workspace, owner):
    assert token_client(owner).delete("/api/v1/workspaces/ws-main/").status_code == 204


def test_a_workspace_with_registered_models_is_deleted_too(workspace, owner):
    from registry import services as registry_services
    from registry.models import ModelVersion

    sink = registry_services.upload_sink_for(workspace)
    sink.open("weights.bin").write(b"w")
    sink.finish()
    registry_services.do_create_model_version_from_upload(workspace, sink, actor=owner, name="iris")
    api = token_client(owner)
    refused = api.delete("/api/v1/workspaces/ws-main/")
    assert refused.status_code == 409 and "1 model" in refused.json()["errors"]["confirm"][0]
    assert api.delete("/api/v1/workspaces/ws-main/?confirm=ws-main").status_code == 204
    assert not ModelVersion.objects.filter(workspace_id=workspace.pk).exists()
