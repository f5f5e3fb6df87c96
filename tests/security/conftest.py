"""Attacks a hostile workspace member would try, run as real jobs through the real runner."""

from __future__ import annotations

import pytest

from compute import sandbox
from jobs.models import Job, JobStatus
from studio import logs
from tests.conftest import require, token_client
from tests.jobs.conftest import (  # noqa: F401
    _clean_job_dirs,
    docker_target,
    make_zip,
    no_dispatch,
    node,
    plain_env,
    wait_status,
)

USER_LOG = "user_logs/std_log.txt"
RUNNER_LOG = "system_logs/lifecycler/execution-wrapper.txt"
FINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


@pytest.fixture
def bwrap():
    """The venv backend's sandbox; required in CI (bubblewrap is installed by .ci/run)."""
    require(sandbox.status().sandboxed, f"bubblewrap with user namespaces ({sandbox.status().detail})")


def run_job(owner, workspace, command: str, *, files: dict | None = None, **body) -> tuple[Job, str]:
    """Submit a job through the API, wait for its end; returns it and its whole output."""
    api = token_client(owner)
    payload = {"command": command, "environment": "azureml:plain:1", "compute": "azureml:local", **body}
    if files:
        answer = api.post(f"/api/v1/workspaces/{workspace.name}/codes/", {"file": make_zip(files)}, format="multipart")
        assert answer.status_code == 201, answer.content
        payload["code"] = answer.json()["id"]
    response = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/", payload, format="json")
    assert response.status_code == 201, response.content
    job = Job.objects.get(workspace=workspace, name=response.json()["name"])
    job = wait_status(job, FINAL, timeout=240)
    return job, logs.read_all(job.log_stream(USER_LOG))


def system_log(job: Job) -> str:
    return logs.read_all(job.log_stream(RUNNER_LOG))


@pytest.fixture
def no_bwrap(settings):
    """This node as if bubblewrap were missing."""
    settings.STUDIO_BWRAP = "studio-no-such-bwrap"
    yield
    sandbox._probe.cache_clear()
