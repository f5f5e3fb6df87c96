"""The workspace's artifact store holds what Studio keeps for members: registered model versions'
files (immutable), runs' MLflow artifacts and logged models. `data.write` (uploads and deletes in
the datastore browser, API and CLI) and `datastores.write` (job outputs with a path) must not let a
member change them: a member without `models.write` would replace a model's pickle that the next
deployment loads, or anyone's run artifacts."""

from __future__ import annotations

import pytest

from registry import services as registry
from studio.services import do_create_role
from tests.conftest import token_client
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db
FILES = "/api/v1/workspaces/ws-main/datastores/workspaceartifactstore/files/"


@pytest.fixture
def version(workspace, owner):
    sink = registry.upload_sink_for(workspace)
    sink.open("model.pkl").write(b"the real weights")
    sink.finish()
    return registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="iris")


@pytest.fixture
def uploader(workspace, owner):
    """A member of a custom role that may upload data but not change models."""
    role = do_create_role(
        workspace, slug="uploader", name="Data uploader", actions={"workspace.view", "data.write"}, actor=owner
    )
    user = UserFactory(username="uma")
    add_member(workspace, user, role.slug, actor=owner)
    return user


def test_a_data_writer_cannot_replace_or_delete_a_registered_models_files(version, uploader):
    api = token_client(uploader)
    target = f"{version.storage_path}/model.pkl"
    put = api.put(
        f"{FILES}?path={target}&overwrite=true", b"attacker's pickle", content_type="application/octet-stream"
    )
    assert put.status_code == 400, put.content
    assert "artifact store" in put.json()["detail"]
    deleted = api.delete(f"{FILES}?path={version.storage_path}")
    assert deleted.status_code == 400, deleted.content
    assert registry.read_small_file(version, "model.pkl") == b"the real weights"


def test_the_artifact_store_stays_readable(version, uploader):
    api = token_client(uploader)
    answer = api.get(f"{FILES}?path={version.storage_path}/model.pkl")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == b"the real weights"


def test_a_job_output_cannot_be_written_into_the_artifact_store(version, workspace, owner, monkeypatch):
    """Even with datastores.write (the Owner here): the output would land in a model's folder."""
    from tests.jobs.conftest import make_environment

    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: None)
    make_environment(workspace, owner, "plain")
    path = f"azureml://datastores/workspaceartifactstore/paths/{version.storage_path}/"
    body = {"command": "echo hi", "environment": "plain:1", "outputs": {"model": {"type": "uri_folder", "path": path}}}
    response = token_client(owner).post("/api/v1/workspaces/ws-main/jobs/", body, format="json")
    assert response.status_code == 400, response.content
    assert "artifact store" in response.content.decode()
