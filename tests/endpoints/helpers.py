"""Helpers of the endpoint tests."""

from __future__ import annotations

import time

from compute.models import LOCAL_QUEUE, Node
from compute.services import do_record_heartbeat, do_register_node
from endpoints import instances, placement
from endpoints.models import DeploymentInstance, InstanceStatus

WORKER = "test-node@localhost"


def this_node() -> Node:
    """This test process as a node of the shared local target, as a worker's agent registers and
    heart-beats it (the keeper thread of a real worker does the rest of `reconcile_here`)."""
    node = Node.objects.filter(worker_name=WORKER, queue=LOCAL_QUEUE).first()
    if node is None or not node.is_live:
        report = {"cpu_count": 2, "memory_mb": 4096, "gpus": 0, "backends": {}, "pythons": []}
        return do_register_node(
            queue=LOCAL_QUEUE, worker_name=WORKER, hostname="localhost", pid=0, capacity=2, report=report
        )
    do_record_heartbeat(node.pk, running=0)
    return node


def reconcile_here() -> dict[str, int]:
    """One round of a node's keeper, run by this process as the local target's node."""
    node = this_node()
    placement.place_all()
    return instances.reconcile([node.pk])


def deploy_script(workspace, owner, env_version, script: str, endpoint_name: str, **fields):
    """An endpoint with one deployment, `blue`, of the registered `doubler` model served by
    `script` (a score.py) in `env_version`. Returns (endpoint, deployment)."""
    from endpoints import services
    from jobs.code import snapshot_from_zip
    from tests.jobs.conftest import make_zip

    code = snapshot_from_zip(workspace, make_zip({"score.py": script}), actor=owner)
    endpoint = services.do_create_endpoint(workspace, {"name": endpoint_name}, actor=owner)
    deployment = services.do_create_deployment(
        endpoint,
        {
            "name": "blue",
            "model": "azureml:doubler:1",
            "environment": f"azureml:{env_version.environment.name}:{env_version.version}",
            "code_configuration": {"code": code.pk, "scoring_script": "score.py"},
            **fields,
        },
        actor=owner,
    )
    return endpoint, deployment


def wait_ready(deployment_names, timeout=120):
    """Reconcile until every named deployment has exactly its ready instance(s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reconcile_here()
        states = DeploymentInstance.objects.filter(deployment__name__in=deployment_names)
        if states.count() == len(deployment_names) and all(i.status == InstanceStatus.READY for i in states):
            return
        time.sleep(0.5)
    details = list(DeploymentInstance.objects.values_list("status", "detail"))
    raise AssertionError(f"instances not ready: {details}")
