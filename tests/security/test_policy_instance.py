"""A compute instance runs only its current assignee's jobs, checked when a node claims a job
(issue #11: a queued job of the instance's previous user ran on the new user's instance)."""

import pytest

from compute import services as compute_services
from jobs.models import JobStatus
from jobs.runner import execute_job
from jobs.services import do_submit_job
from tests.endpoints.conftest import light, score_code  # noqa: F401
from tests.jobs.conftest import make_environment


@pytest.fixture
def queued(monkeypatch):
    """Submitted jobs stay Queued until the test claims them as a node would."""
    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: None)


@pytest.fixture
def box(workspace, owner, members):
    make_environment(workspace, owner, "plain")
    return compute_services.do_create_compute(
        workspace,
        data={"name": "dana-box", "type": "computeinstance", "assigned_to": "datascientist_user"},
        actor=owner,
    )


def test_a_queued_job_of_the_previous_assignee_fails_at_the_claim_instead_of_running(
    queued, box, workspace, owner, members
):
    dana = members["data_scientist"]
    job = do_submit_job(
        workspace,
        actor=dana,
        data={"command": "echo ran > outputs/ran.txt", "environment": "plain:1", "compute": box.name},
    )
    compute_services.do_update_compute(box, data={"assigned_to": "contributor_user"}, actor=owner)

    status = execute_job(job.pk, node="box-node@host")

    job.refresh_from_db()
    assert status == JobStatus.FAILED and job.status == JobStatus.FAILED
    assert "now assigned to contributor_user" in job.failure_reason
    assert f"this job of {dana.username} did not run" in job.failure_reason
    assert job.running_at is None


def test_the_current_assignees_job_is_not_refused(box, members):
    assert compute_services.refusal_to_run(box, members["data_scientist"]) == ""
    assert "runs only its assignee's jobs" in compute_services.refusal_to_run(box, members["owner"])


def test_another_member_cannot_change_what_a_deployment_runs_on_someones_instance(
    box, workspace, owner, members, request
):
    """A second Data Scientist (endpoints.write, no compute.manage) edited the assignee's deployment:
    the instance then ran their code, though it runs only its assignee's jobs and deployments."""
    from endpoints import services as endpoint_services
    from tests.conftest import token_client
    from tests.factories import UserFactory, add_member

    fields = request.getfixturevalue("light")  # model, code and environment of a deployment
    dana = members["data_scientist"]
    endpoint = endpoint_services.do_create_endpoint(workspace, {"name": "dana-ep"}, actor=dana)
    endpoint_services.do_create_deployment(endpoint, {"name": "blue", **fields, "compute": box.name}, actor=dana)
    dave = UserFactory(username="dave")
    add_member(workspace, dave, "data_scientist", actor=owner)
    url = "/api/v1/workspaces/ws-main/online-endpoints/dana-ep/deployments/blue/"

    changed = token_client(dave).patch(url, {"environment_variables": {"EVIL": "1"}}, format="json")
    assert changed.status_code == 400, changed.content
    assert "assigned to datascientist_user" in changed.json()["detail"]
    assert (
        token_client(dave).patch(url, {"instance_count": 2}, format="json").status_code == 200
    )  # scaling runs dana's code
    assert token_client(dana).patch(url, {"environment_variables": {"OK": "1"}}, format="json").status_code == 200
