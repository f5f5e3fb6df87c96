"""A compute instance runs only its current assignee's jobs, checked when a node claims a job
(issue #11: a queued job of the instance's previous user ran on the new user's instance)."""

import pytest

from compute import services as compute_services
from jobs.models import JobStatus
from jobs.runner import execute_job
from jobs.services import do_submit_job
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
