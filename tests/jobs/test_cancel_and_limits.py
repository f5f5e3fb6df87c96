"""Cancel on each backend, timeouts, and the docker backend's memory limit."""

from __future__ import annotations

import subprocess
import time

import pytest

from jobs import services
from jobs.models import Job, JobStatus
from tests.conftest import token_client
from tests.jobs.conftest import wait_for, wait_status
from tests.jobs.test_run_venv import submit

SLEEPER = "import time\nprint('going to sleep', flush=True)\ntime.sleep(300)\n"


def _processes_matching(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def _cancel_when_running(api, workspace, job):
    wait_status(job, JobStatus.RUNNING)
    wait_for(
        lambda: "going to sleep" in api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()["text"]
    )
    started = time.monotonic()
    response = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/cancel/")
    assert response.status_code == 200, response.content
    job = wait_status(job, (JobStatus.CANCELED, JobStatus.FAILED, JobStatus.COMPLETED), timeout=10)
    return job, time.monotonic() - started


def test_cancel_stops_the_process_group_within_seconds(node, workspace, owner, plain_env):
    api = token_client(owner)
    marker = "sleepy_marker_4711"
    job = submit(
        api,
        workspace,
        {"command": f"python sleep.py {marker} & python sleep.py {marker}; wait", "environment": "plain:1"},
        code={"sleep.py": SLEEPER},
    )
    job, took = _cancel_when_running(api, workspace, job)
    assert job.status == JobStatus.CANCELED
    assert took < 5
    assert job.canceled_by == owner and "Canceled by olivia" in job.failure_reason
    wait_for(lambda: not _processes_matching(marker), timeout=3)
    logs = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()
    assert "going to sleep" in logs["text"], "logs are kept"


def test_cancel_of_a_queued_job_is_immediate(no_dispatch, workspace, owner, plain_env):
    api = token_client(owner)
    job = submit(api, workspace, {"command": "echo never", "environment": "plain:1"})
    answer = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/cancel/").json()
    assert answer["status"] == "Canceled"
    again = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/cancel/")
    assert again.status_code == 409
    from jobs.runner import execute_job

    assert execute_job(job.pk, node="late-node") is None, "a node that gets the message later does not run it"


def test_a_job_over_its_timeout_fails_with_that_reason(node, workspace, owner, plain_env):
    api = token_client(owner)
    job = submit(api, workspace, {"command": "sleep 30", "environment": "plain:1", "limits": {"timeout": 1}})
    job = wait_status(job, (JobStatus.FAILED, JobStatus.COMPLETED), timeout=20)
    assert job.status == JobStatus.FAILED and job.failure_kind == "timed_out"
    assert "limit of 1 s" in job.failure_reason


@pytest.mark.docker
def test_cancel_on_docker_removes_the_container(node, workspace, owner, plain_env, docker_target):
    import docker

    api = token_client(owner)
    job = submit(
        api,
        workspace,
        {"command": "python sleep.py", "environment": "plain:1", "compute": "dock"},
        code={"sleep.py": SLEEPER},
    )
    job, took = _cancel_when_running(api, workspace, job)
    assert job.status == JobStatus.CANCELED, job.failure_reason
    assert took < 5
    client = docker.from_env()
    wait_for(lambda: not client.containers.list(all=True, filters={"label": f"studio.job={job.pk}-0"}), timeout=5)


@pytest.mark.docker
def test_docker_job_runs_with_code_read_only_and_outputs_writable(node, workspace, owner, plain_env, docker_target):
    api = token_client(owner)
    script = (
        "import os\n"
        "print('cwd', os.getcwd())\n"
        "try:\n    open('scratch.txt', 'w')\nexcept OSError as exc:\n    print('code is read-only:', exc.errno)\n"
        "open('outputs/result.txt', 'w').write('done')\n"
        "print('token set', bool(os.environ.get('MLFLOW_TRACKING_URI')))\n"
    )
    job = submit(
        api,
        workspace,
        {"command": "python job.py", "environment": "plain:1", "compute": "dock"},
        code={"job.py": script},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=120)
    text = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()["text"]
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, text)
    assert "cwd /job/code" in text and "code is read-only: 30" in text
    tree = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/").json()
    assert [f["path"] for f in tree["files"]] == ["result.txt"]


@pytest.mark.docker
def test_docker_memory_limit_exceeded_is_reported(node, workspace, owner, plain_env, docker_target):
    api = token_client(owner)
    hog = "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n"
    job = submit(
        api,
        workspace,
        {"command": "python hog.py", "environment": "plain:1", "compute": "dock", "resources": {"memory": "64m"}},
        code={"hog.py": hog},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=120)
    assert job.status == JobStatus.FAILED
    assert job.failure_kind == "memory"
    assert "exceeded its memory limit of 64 MiB" in job.failure_reason


def test_reader_cannot_cancel_but_data_scientist_can(no_dispatch, workspace, owner, members, plain_env):
    job = services.do_submit_job(workspace, actor=owner, data={"command": "echo hi", "environment": "plain:1"})
    reader = token_client(members["reader"])
    assert reader.post(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/cancel/").status_code == 403
    assert reader.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").status_code == 200
    scientist = token_client(members["data_scientist"])
    assert scientist.post(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/cancel/").status_code == 200
    assert scientist.delete(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/").status_code == 403
    contributor = token_client(members["contributor"])
    assert contributor.delete(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/").status_code == 204
    assert not Job.objects.filter(pk=job.pk).exists()
