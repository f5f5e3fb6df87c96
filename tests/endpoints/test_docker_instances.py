"""Online deployment instances on a docker-backend target run as containers of the environment's
image, started by the node serving the target: reachable through the router with the endpoint's
key, refusing a direct call without the instance's secret, confined like a job's container, brought
back when killed, removed when their row is gone, and removed with their deployment."""

from __future__ import annotations

import time

import pytest
import requests
from django.conf import settings

from compute.backends.docker_runner import INSTALL_LABEL, NODE_LABEL, docker_client
from compute.services import do_register_node
from endpoints import instances, keys, placement, services
from endpoints.models import DeploymentInstance, InstanceStatus
from endpoints.runtimes import CONTAINERS, INSTANCE_LABEL
from registry import services as registry
from tests.endpoints.helpers import deploy_script
from tests.jobs.conftest import make_environment

pytestmark = pytest.mark.docker

WORKER = "dock-node@localhost"
SERVER_ONLY = """dependencies:
  - python=3.11
  - pip:
    - azureml-inference-server-http==1.5.1
"""
SCORE = """
import json, os

def init():
    global factor
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "factor.txt")) as f:
        factor = float(f.read())
    key_file = os.path.join(os.environ["HOME"], ".instance-key")
    print("init in uid", os.getuid(), "key file left:", os.path.exists(key_file))

def run(raw_data):
    return {"doubled": [x * factor for x in json.loads(raw_data)["data"]], "uid": os.getuid()}
"""


def _reconcile(node) -> dict[str, int]:
    """One round of the docker target's node keeper, run by this test process."""
    placement.place_all({node.queue})
    return instances.reconcile([node.pk])


def _wait_ready(node, timeout: float = 600) -> DeploymentInstance:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reconcile(node)
        row = DeploymentInstance.objects.filter(status=InstanceStatus.READY).first()
        if row is not None:
            return row
        time.sleep(0.5)
    raise AssertionError(f"not ready: {list(DeploymentInstance.objects.values_list('status', 'detail'))}")


def test_a_deployment_on_a_docker_target_serves_from_a_confined_container_kept_alive_and_removed(
    transactional_db, workspace, owner, docker_target, asgi_server
):
    node = do_register_node(
        queue=docker_target.queue_name,
        worker_name=WORKER,
        hostname="localhost",
        pid=0,
        capacity=1,
        report={"cpu_count": 2, "memory_mb": 4096, "gpus": 0, "backends": {}, "pythons": []},
    )
    sink = registry.upload_sink_for(workspace)
    sink.open("factor.txt").write(b"2")
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="doubler")
    env = make_environment(workspace, owner, "served", conda_file=SERVER_ONLY)
    endpoint, deployment = deploy_script(workspace, owner, env, SCORE, "dock-ep", compute="azureml:dock")
    client = docker_client()
    try:
        row = _wait_ready(node)
        services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)
        url = f"{asgi_server}/endpoints/{workspace.name}/dock-ep/score"
        key = keys.read(endpoint)["primary"]
        answer = requests.post(url, json={"data": [1, 2]}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["doubled"] == [2.0, 4.0] and answer.json()["uid"] != 0
        wrong = requests.post(url, json={"data": [1]}, headers={"Authorization": "Bearer nope"}, timeout=30)
        assert wrong.status_code == 401

        # The port is on the node's address, but without the instance's secret the server refuses.
        direct = requests.post(f"http://{row.host}:{row.port}/score", json={"data": [1]}, timeout=10)
        assert direct.status_code == 401, direct.text

        # Confined as a job's container is, and labelled for the sweep.
        container = client.containers.get(CONTAINERS.name(row.pk))
        host_config = container.attrs["HostConfig"]
        assert host_config["NetworkMode"] == "host" and host_config["CapDrop"] == ["ALL"]
        assert "no-new-privileges" in host_config["SecurityOpt"]
        assert host_config["PidsLimit"] == settings.STUDIO_JOB_PIDS_LIMIT
        assert host_config["Memory"] == docker_target.memory_mb * 1024 * 1024
        assert container.attrs["Config"]["User"].split(":")[0] != "0"
        labels = container.labels
        assert labels[INSTALL_LABEL] == settings.STUDIO_INSTALL_ID and labels[NODE_LABEL] == WORKER
        assert labels[INSTANCE_LABEL] == str(row.pk)
        mounts = {m["Destination"]: m["RW"] for m in container.attrs["Mounts"]}
        assert mounts == {"/instance": True, "/instance/code": False, "/instance/model": False}

        # The Logs tab's file holds the container's output; the launcher deleted the key file.
        log = instances.log_path(row).read_text()
        assert "init in uid" in log and "key file left: False" in log, log

        # A killed container is started again by the node (a new secret, the same log).
        container.kill()
        deadline = time.monotonic() + 30
        while CONTAINERS.alive(row, instances.log_path(row).parent) and time.monotonic() < deadline:
            time.sleep(0.2)
        restarted = _wait_ready(node, timeout=120)
        assert restarted.pk == row.pk and restarted.restarts == 1
        assert restarted.secret != row.secret
        again = requests.post(url, json={"data": [3]}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert again.status_code == 200 and again.json()["doubled"] == [6.0], again.text
        assert instances.log_path(row).read_text().count("init in uid") == 2

        # A container whose row is gone (its worker died before it removed the container) is
        # removed at the node's next round, and the deployment gets a new instance.
        DeploymentInstance.objects.filter(pk=row.pk).delete()
        _reconcile(node)
        assert client.containers.list(all=True, filters={"label": f"{INSTANCE_LABEL}={row.pk}"}) == []
        replacement = _wait_ready(node, timeout=120)
        assert replacement.pk != row.pk

        # Deleting the deployment removes its container at the node's next round.
        services.do_update_endpoint(endpoint, {"traffic": {}}, actor=owner)
        services.do_delete_deployment(deployment, actor=owner)
        assert _reconcile(node)["stopped"] == 1
        left = client.containers.list(all=True, filters={"label": f"{NODE_LABEL}={WORKER}"})
        assert left == [], left
    finally:
        instances.stop_all([node.pk])
        for leftover in client.containers.list(all=True, filters={"label": f"{NODE_LABEL}={WORKER}"}):
            leftover.remove(force=True)
        client.close()
