"""Jobs on the venv backend, end to end through the API: real processes, real logs."""

from __future__ import annotations

import pickle

from jobs.models import Job, JobStatus
from tests.conftest import token_client
from tests.jobs.conftest import make_zip, wait_status

TRAIN = """
import os, pickle, sys
print("hello from the job")
print("args:", sys.argv[1:])
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as f:
    pickle.dump({"weights": [1, 2, 3]}, f)
print("PYTHONDONTWRITEBYTECODE" in os.environ, os.environ.get("GREETING"))
"""


def submit(api, workspace, body, code=None):
    if code is not None:
        answer = api.post(f"/api/v1/workspaces/{workspace.name}/codes/", {"file": make_zip(code)}, format="multipart")
        assert answer.status_code == 201, answer.content
        body = {**body, "code": answer.json()["id"]}
    response = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/", body, format="json")
    assert response.status_code == 201, response.content
    job = Job.objects.get(workspace=workspace, name=response.json()["name"])
    job.answered = response.json()  # what the API said at submission; a live node may have moved it on since
    return job


def test_a_job_prints_writes_outputs_and_completes(node, workspace, owner, plain_env):
    api = token_client(owner)
    job = submit(
        api,
        workspace,
        {
            "command": "python train.py --epochs ${{inputs.epochs}}",
            "environment": "azureml:plain:1",
            "compute": "azureml:local",
            "inputs": {"epochs": 3},
            "environment_variables": {"GREETING": "hi"},
            "experiment_name": "first",
            "display_name": "My first job",
        },
        code={"train.py": TRAIN},
    )
    assert "_" in job.name and job.answered["status"] == JobStatus.QUEUED
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED))
    logs = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, logs["text"])
    assert "hello from the job" in logs["text"]
    assert "args: ['--epochs', '3']" in logs["text"]
    assert "False hi" in logs["text"], "PYTHONDONTWRITEBYTECODE is not inherited; variables are set"
    assert logs["final"] is True and logs["next_offset"] == logs["size"]
    detail = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/").json()
    assert detail["status"] == "Completed" and detail["exit_code"] == 0
    assert detail["experiment_name"] == "first" and detail["environment"] == "plain:1"
    tree = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/").json()
    assert [f["path"] for f in tree["files"]] == ["model.pkl"]
    assert any(f["path"] == "user_logs/std_log.txt" for f in tree["logs"])
    download = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/model.pkl")
    assert download.status_code == 200
    assert pickle.loads(b"".join(download.streaming_content)) == {"weights": [1, 2, 3]}
    phases = [e.status for e in job.events.filter(kind="status")]
    assert phases == ["Queued", "Preparing", "Running", "Finalizing", "Completed"]


def test_a_failing_job_says_why(node, workspace, owner, plain_env):
    api = token_client(owner)
    script = "import sys\nprint('working...')\nprint('bad things happened', file=sys.stderr)\nsys.exit(3)\n"
    job = submit(api, workspace, {"command": "python fail.py", "environment": "plain@latest"}, code={"fail.py": script})
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED))
    assert job.status == JobStatus.FAILED
    assert job.exit_code == 3
    assert job.failure_kind == "user_error"
    assert "exited with code 3" in job.failure_reason
    assert "bad things happened" in job.error_excerpt
    detail = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/").json()
    assert "code 3" in detail["failure_reason"]


def test_a_missing_module_is_explained(node, workspace, owner, plain_env):
    api = token_client(owner)
    job = submit(
        api, workspace, {"command": "python train.py", "environment": "plain:1"}, code={"train.py": "import sklearn\n"}
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED))
    assert job.status == JobStatus.FAILED
    assert "ModuleNotFoundError: No module named 'sklearn'" in job.error_excerpt
    assert "does not have it" in job.failure_reason and "plain:1" in job.failure_reason
