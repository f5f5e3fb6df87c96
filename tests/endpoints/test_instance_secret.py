"""Each deployment instance's server requires its own secret: a job of another workspace member,
sandboxed on the same node, that finds the instance's port and calls it directly gets 401, while
the router (which holds the secret) still scores. The scoring script never sees the secret."""

from __future__ import annotations

import pytest

from endpoints import instances, keys, services
from endpoints.models import DeploymentInstance
from jobs.models import JobStatus
from tests.conftest import token_client
from tests.endpoints.helpers import deploy_script, wait_ready
from tests.jobs.conftest import make_zip, plain_env, wait_status  # noqa: F401 - fixture
from tests.jobs.test_run_venv import submit

# The scoring script reports what a careless (or curious) init() could find of the secret.
SNOOP = """
import json, os

def init():
    global seen
    folder = os.path.dirname(os.environ["AZUREML_MODEL_DIR"])
    seen = {
        "variables": sorted(k for k in os.environ if k.startswith("STUDIO_")),
        "files": sorted(os.listdir(folder)),
    }

def run(raw_data):
    return {"doubled": [2 * x for x in json.loads(raw_data)["data"]], "seen": seen}
"""

# A hostile member's job: call the instance's port directly, with no secret and a made-up one.
PROBE = """
import sys, urllib.request, urllib.error

port = sys.argv[1]
for path, method, key in [("/score", "POST", None), ("/score", "POST", "guess"), ("/", "GET", None)]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=b'{"data": [1]}' if method == "POST" else None,
                                     headers={"Content-Type": "application/json"})
    if key:
        request.add_header("X-Studio-Instance-Key", key)
    try:
        status = urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        status = exc.code
    print(f"probe {method} {path} key={key}: {status}")
"""


@pytest.mark.usefixtures("plain_env")
def test_a_job_on_the_same_node_cannot_call_an_instance_without_its_secret(
    client, node, workspace, owner, members, serve_env, sklearn_model
):
    env_version, _ = serve_env
    endpoint, _ = deploy_script(workspace, owner, env_version, SNOOP, "guarded-ep")
    endpoint = services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)
    try:
        wait_ready(["blue"])
        instance = DeploymentInstance.objects.get(deployment__name="blue")
        assert instance.secret and instance.secret not in instance.secret_encrypted

        api = token_client(members["data_scientist"])
        job = submit(
            api,
            workspace,
            {"command": f"python probe.py {instance.port}", "environment": "azureml:plain:1", "compute": "local"},
            code={"probe.py": PROBE},
        )
        job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=90)
        log = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()["text"]
        assert job.status == JobStatus.COMPLETED, (job.failure_reason, log)
        assert "probe POST /score key=None: 401" in log, log
        assert "probe POST /score key=guess: 401" in log, log
        assert "probe GET / key=None: 401" in log, log

        key = keys.read(endpoint)["primary"]
        answer = client.post(
            f"/endpoints/{workspace.name}/guarded-ep/score",
            {"data": [3]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert answer.status_code == 200, answer.content
        assert answer.json()["doubled"] == [6]
        # Neither the environment nor the instance's folder holds the secret once init() runs.
        assert answer.json()["seen"]["variables"] == []
        assert instances.KEY_FILE not in answer.json()["seen"]["files"]
        # The API shows where an instance runs, never its secret.
        shown = token_client(owner).get(
            f"/api/v1/workspaces/{workspace.name}/online-endpoints/guarded-ep/deployments/blue/"
        )
        assert shown.status_code == 200 and instance.secret not in shown.content.decode()
    finally:
        instances.stop_all()
