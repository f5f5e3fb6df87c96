"""An inline `environment:` mapping in a job creates a workspace environment, so it needs
environments.write (issue #11: `jobs.submit` alone created environments through it)."""

import io

import pytest

from environments.models import Environment
from jobs.models import Job
from studio.services import do_add_member, do_create_role
from tests.conftest import token_client
from tests.factories import UserFactory

INLINE = {"image": "python:3.11-slim", "conda_file": "dependencies:\n  - pip:\n    - numpy\n"}


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: None)


@pytest.fixture
def submitter(workspace, owner):
    role = do_create_role(
        workspace, slug="submitter", name="Submitter", actions=["workspace.view", "jobs.submit"], actor=owner
    )
    user = UserFactory(username="sam")
    do_add_member(workspace, user=user, role=role, actor=owner)
    return user


def test_jobs_submit_alone_cannot_create_an_environment_inline(submitter, workspace):
    response = token_client(submitter).post(
        f"/api/v1/workspaces/{workspace.name}/jobs/", {"command": "echo hi", "environment": INLINE}, format="json"
    )

    assert response.status_code == 400
    assert "needs environments.write" in response.json()["errors"]["environment"][0]
    assert not Environment.objects.filter(workspace=workspace).exists()
    assert not Job.objects.exists()


def test_the_cli_yaml_inline_environment_is_refused_the_same_way(submitter, workspace):
    spec = "command: echo hi\nenvironment:\n  image: python:3.11-slim\n"
    response = token_client(submitter).post(
        f"/api/v1/workspaces/{workspace.name}/jobs/", {"spec": io.BytesIO(spec.encode())}, format="multipart"
    )

    assert response.status_code == 400
    assert "needs environments.write" in str(response.json()["errors"])


def test_a_data_scientist_may_still_define_one_inline(members, workspace):
    response = token_client(members["data_scientist"]).post(
        f"/api/v1/workspaces/{workspace.name}/jobs/", {"command": "echo hi", "environment": INLINE}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Environment.objects.filter(workspace=workspace, name="CliV2AnonymousEnvironment").exists()
