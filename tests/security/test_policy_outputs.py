"""Output writes need datastores.write (issue #11: `jobs.submit` alone wrote into any datastore
through an output path, overwriting the files behind an immutable data asset version), and
registering an output as a data asset needs data.write."""

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from datastores.materialize import upload_output
from datastores.models import Datastore
from datastores.services import do_create_data_version
from datastores.storage import store_for
from jobs.models import Job
from studio.services import do_add_member, do_create_role
from tests.conftest import token_client
from tests.factories import UserFactory
from tests.jobs.conftest import make_environment

BLOB = "azureml://datastores/workspaceblobstore/paths"


@pytest.fixture(autouse=True)
def queued(monkeypatch, settings, tmp_path):
    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: None)
    settings.STUDIO_DATASTORES_ROOT = tmp_path / "builtin"


@pytest.fixture
def submitter(workspace, owner):
    """A member whose custom role holds jobs.submit and nothing that writes data."""
    role = do_create_role(
        workspace, slug="submitter", name="Submitter", actions=["workspace.view", "jobs.submit"], actor=owner
    )
    user = UserFactory(username="sam")
    do_add_member(workspace, user=user, role=role, actor=owner)
    make_environment(workspace, owner, "plain")
    return user


@pytest.fixture
def golden(workspace, owner):
    """Data asset golden:1 over workspaceblobstore/golden/ (one file)."""
    blob = Datastore.objects.get(workspace=workspace, name="workspaceblobstore")
    store_for(blob).write_stream("golden/labels.csv", io.BytesIO(b"id,label\n1,cat\n"))
    return do_create_data_version(
        workspace, actor=owner, name="golden", version="1", type="uri_folder", path=f"{BLOB}/golden/"
    )


def post_job(user, workspace, outputs):
    body = {"command": "echo hi", "environment": "plain:1", "outputs": outputs}
    return token_client(user).post(f"/api/v1/workspaces/{workspace.name}/jobs/", body, format="json")


def test_jobs_submit_alone_cannot_write_an_output_into_a_datastore_path(submitter, workspace):
    response = post_job(submitter, workspace, {"model": {"type": "uri_folder", "path": f"{BLOB}/shared/models/"}})

    assert response.status_code == 400
    assert "needs datastores.write" in response.json()["errors"]["outputs.model"][0]
    assert not Job.objects.filter(workspace=workspace).exists()


def test_jobs_submit_alone_cannot_write_into_another_jobs_output_folder(submitter, workspace):
    response = post_job(submitter, workspace, {"out": {"path": f"{BLOB}/azureml/someone-elses-job/out/"}})

    assert response.status_code == 400
    assert "needs datastores.write" in str(response.json()["errors"])


def test_the_cli_yaml_path_is_checked_the_same_way(submitter, workspace):
    spec = (
        "command: echo hi\nenvironment: plain:1\n"
        f"outputs:\n  model:\n    type: uri_folder\n    path: {BLOB}/shared/models/\n"
    )
    response = token_client(submitter).post(
        f"/api/v1/workspaces/{workspace.name}/jobs/", {"spec": io.BytesIO(spec.encode())}, format="multipart"
    )

    assert response.status_code == 400
    assert "needs datastores.write" in str(response.json()["errors"])


def test_the_jobs_own_default_location_needs_nothing_more(submitter, workspace):
    response = post_job(submitter, workspace, {"model": {"type": "uri_folder"}})
    own = response.json()["name"]
    explicit = post_job(submitter, workspace, {"model": {"path": f"{BLOB}/azureml/{own}-x/model/"}})

    assert response.status_code == 201
    assert explicit.status_code == 400  # not its own folder: another job's name


def test_registering_an_output_as_a_data_asset_needs_data_write(submitter, workspace):
    response = post_job(submitter, workspace, {"model": {"type": "uri_folder", "name": "my-model-data"}})

    assert response.status_code == 400
    assert "needs data.write" in response.json()["errors"]["outputs.model"][0]


def test_even_datastores_write_cannot_overwrite_a_data_asset_versions_files(members, workspace, golden, owner):
    make_environment(workspace, owner, "plain")
    for path in (f"{BLOB}/golden/", f"{BLOB}/golden/labels/", f"{BLOB}/"):
        response = post_job(members["contributor"], workspace, {"out": {"type": "uri_folder", "path": path}})
        assert response.status_code == 400, path
        assert "golden:1" in str(response.json()["errors"]) and "immutable" in str(response.json()["errors"])

    fine = post_job(members["contributor"], workspace, {"out": {"type": "uri_folder", "path": f"{BLOB}/golden-2/"}})
    assert fine.status_code == 201, fine.content


def test_a_version_registered_after_submission_is_still_not_overwritten_at_upload(workspace, golden, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "labels.csv").write_text("id,label\n1,dog\n")

    with pytest.raises(ValidationError, match="golden:1"):
        upload_output(workspace, out, job_name="late-job", output_name="out", spec={"path": f"{BLOB}/golden/"})

    blob = Datastore.objects.get(workspace=workspace, name="workspaceblobstore")
    assert Path(store_for(blob).full("golden/labels.csv")).read_text() == "id,label\n1,cat\n"


def test_the_datastore_browser_neither_overwrites_nor_deletes_a_data_asset_versions_files(members, workspace, golden):
    api = token_client(members["data_scientist"])
    files = f"/api/v1/workspaces/{workspace.name}/datastores/workspaceblobstore/files/"

    put = api.put(
        f"{files}?path=golden/labels.csv&overwrite=true", b"id,label\n1,dog\n", content_type="application/octet-stream"
    )
    added = api.post(f"{files}?path=golden", {"file": io.BytesIO(b"x")}, format="multipart")
    deleted = api.delete(f"{files}?path=golden/labels.csv")
    deleted_parent = api.delete(f"{files}?path=golden")
    elsewhere = api.put(f"{files}?path=scratch/a.csv", b"a\n", content_type="application/octet-stream")

    for response in (put, added, deleted, deleted_parent):
        assert response.status_code == 400, response.content
        assert "golden:1" in response.content.decode()
    assert elsewhere.status_code == 201
    blob = Datastore.objects.get(workspace=workspace, name="workspaceblobstore")
    assert Path(store_for(blob).full("golden/labels.csv")).read_text() == "id,label\n1,cat\n"


def test_a_job_named_like_a_deleted_one_cannot_rewrite_its_registered_output(submitter, workspace, owner):
    blob = Datastore.objects.get(workspace=workspace, name="workspaceblobstore")
    store_for(blob).write_stream("azureml/old-job/model/m.pkl", io.BytesIO(b"weights"))
    do_create_data_version(
        workspace, actor=owner, name="model", version="1", type="uri_folder", path=f"{BLOB}/azureml/old-job/model/"
    )
    body = {"name": "old-job", "command": "echo hi", "environment": "plain:1", "outputs": {"model": {}}}

    response = token_client(submitter).post(f"/api/v1/workspaces/{workspace.name}/jobs/", body, format="json")

    assert response.status_code == 400
    assert "model:1" in str(response.json()["errors"])


@pytest.mark.parametrize(
    "path, tree, protected",
    [
        ("golden", True, True),
        ("golden/labels.csv", False, True),
        ("golden/new.csv", False, True),
        ("", True, True),
        ("", False, False),
        ("gold", True, False),
        ("golden-2/x.csv", False, False),
        ("other/golden", True, False),
    ],
)
def test_which_paths_hold_a_versions_files(workspace, golden, path, tree, protected):
    from datastores.immutable import version_behind

    blob = Datastore.objects.get(workspace=workspace, name="workspaceblobstore")
    assert (version_behind(blob, path, tree=tree) is not None) is protected
