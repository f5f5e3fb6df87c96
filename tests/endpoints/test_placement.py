"""Placement of deployment instances over the nodes of their compute target: spread over the
Ready nodes, moved off a node that stopped heart-beating, and, with real worker processes, served
from two nodes and kept answering when one of them is killed."""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compute.models import ComputeTarget, Node, NodeState
from endpoints import keys, placement, services
from endpoints.models import DeploymentInstance, InstanceStatus, OnlineDeployment
from endpoints.node_keeper import Keeper
from tests.compute.conftest import make_target, purged, register, wait_for
from tests.endpoints.helpers import deploy_script


def _rows(deployment):
    return list(DeploymentInstance.objects.filter(deployment=deployment).select_related("node").order_by("pk"))


def _silence(node: Node) -> None:
    """The node's last heartbeat is older than the reaper's threshold (its worker died)."""
    Node.objects.filter(pk=node.pk).update(last_heartbeat=timezone.now() - timedelta(minutes=5))


def test_instances_spread_over_ready_nodes_and_move_off_a_silent_one(workspace, owner, light):
    cluster = make_target(workspace, owner, name="cpu-cluster", max_instances=3)
    a, b = register(cluster, "a@host"), register(cluster, "b@host")
    endpoint = services.do_create_endpoint(workspace, {"name": "spread-ep"}, actor=owner)
    deployment = services.do_create_deployment(
        endpoint, {"name": "blue", **light, "compute": "cpu-cluster", "instance_count": 2}, actor=owner
    )
    assert placement.place(deployment.pk) == {"placed": 2}
    assert sorted(r.node.worker_name for r in _rows(deployment)) == ["a@host", "b@host"]
    assert placement.place(deployment.pk) == {}, "a placed deployment stays where it is"

    # A third node joins: the next instance goes to it (the fewest instances first).
    register(cluster, "c@host")
    services.do_update_deployment(deployment, {"instance_count": 3}, actor=owner)
    placement.place(deployment.pk)
    assert sorted(r.node.worker_name for r in _rows(deployment)) == ["a@host", "b@host", "c@host"]

    # a stops heart-beating: its instance moves to a node that still does, to be started there.
    DeploymentInstance.objects.filter(node=a).update(status=InstanceStatus.READY, port=1234, pid=99)
    _silence(a)
    assert placement.place(deployment.pk) == {"moved": 1}
    moved = next(r for r in _rows(deployment) if "Moved from a@host" in r.detail)
    assert moved.node.worker_name in ("b@host", "c@host")
    assert moved.status == InstanceStatus.STARTING and moved.port is None and moved.pid is None
    assert not DeploymentInstance.objects.filter(node=a).exists()

    # Scaled down: the extra instance is told to stop (its node's worker stops it and drops the row).
    services.do_update_deployment(deployment, {"instance_count": 1}, actor=owner)
    assert placement.place(deployment.pk) == {"stopped": 2}
    assert [r.status for r in _rows(deployment)].count(InstanceStatus.STOPPED) == 2

    # No Ready node at all: the instance waits, and says why.
    _silence(b)
    Node.objects.filter(worker_name="c@host").update(state="Stopped")
    placement.place(deployment.pk)
    waiting = [r for r in _rows(deployment) if r.status != InstanceStatus.STOPPED]
    assert all(r.node is None and "No Ready node of the compute target cpu-cluster" in r.detail for r in waiting)
    assert waiting, "the wanted instance is kept, to be placed when a node comes"


def test_an_update_keeps_the_old_generation_until_the_new_one_is_ready(workspace, owner, light):
    cluster = make_target(workspace, owner, name="cpu-cluster", max_instances=2)
    register(cluster, "a@host")
    endpoint = services.do_create_endpoint(workspace, {"name": "gen-ep"}, actor=owner)
    deployment = services.do_create_deployment(
        endpoint, {"name": "blue", **light, "compute": "cpu-cluster"}, actor=owner
    )
    placement.place(deployment.pk)
    DeploymentInstance.objects.update(status=InstanceStatus.READY)
    services.do_update_deployment(deployment, {"environment_variables": {"X": "1"}}, actor=owner)
    placement.place(deployment.pk)
    old, new = _rows(deployment)
    assert (old.generation, old.status) == (1, InstanceStatus.READY) and new.generation == 2
    DeploymentInstance.objects.filter(pk=new.pk).update(status=InstanceStatus.READY)
    assert placement.place(deployment.pk) == {"draining": 1}
    old.refresh_from_db()
    assert old.status == InstanceStatus.DRAINING and old.stop_at is not None


def test_a_nodes_keeper_round_reads_and_locks_only_the_deployments_of_its_own_target(
    transactional_db, workspace, owner, light
):
    own, other = (
        make_target(workspace, owner, name="own-cluster", max_instances=2),
        make_target(workspace, owner, name="other"),
    )
    mine, peer = register(own, "mine@host"), register(own, "peer@host")
    register(other, "other@host")
    # This worker's own node is paused: what it places goes to its Ready peer, so the round starts
    # no server here and the test sees placement alone.
    Node.objects.filter(pk=mine.pk).update(state=NodeState.PAUSED)
    endpoint = services.do_create_endpoint(workspace, {"name": "keeper-ep"}, actor=owner)

    def deploy(name, **more):
        return services.do_create_deployment(endpoint, {"name": name, **light, **more}, actor=owner)

    owned = [deploy("own-a", compute="own-cluster"), deploy("own-b", compute="own-cluster")]
    foreign = [deploy("other-a", compute="other"), deploy("other-b", compute="other"), deploy("on-local")]

    with CaptureQueriesContext(connection) as queries:
        Keeper({own.queue_name: mine.pk}).round()

    assert all([r.node_id for r in _rows(d)] == [peer.pk] for d in owned), "its own target's are placed"
    assert not DeploymentInstance.objects.filter(deployment__in=foreign).exists(), "the others are not touched"
    if connection.features.has_select_for_update:
        locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
        assert len(locks) == len(owned), locks
    # The periodic task (no queues) still places every deployment.
    assert placement.place_all()["placed"] == 2
    placed_on = DeploymentInstance.objects.filter(deployment__in=foreign).values_list("node__worker_name", flat=True)
    assert set(placed_on) == {"other@host", None}, "on-local waits: this test runs no local node"


def test_the_queue_filter_matches_queue_of_for_every_kind_of_target(workspace, owner, light):
    cluster = make_target(workspace, owner, name="cpu-cluster")
    endpoint = services.do_create_endpoint(workspace, {"name": "queue-ep"}, actor=owner)
    deployments = [
        services.do_create_deployment(endpoint, {"name": "on-cluster", **light, "compute": "cpu-cluster"}, actor=owner),
        services.do_create_deployment(endpoint, {"name": "on-local", **light, "compute": "local"}, actor=owner),
        services.do_create_deployment(endpoint, {"name": "no-compute", **light}, actor=owner),
    ]
    for queue in (cluster.queue_name, "compute.local", "compute.other.cpu-cluster", "compute.x", "nonsense"):
        expected = {d.pk for d in deployments if placement.queue_of(d) == queue}
        assert (
            set(OnlineDeployment.objects.filter(placement.on_queues({queue})).values_list("pk", flat=True)) == expected
        ), queue
        targets = ComputeTarget.objects.on_queues({queue}).select_related("workspace")
        assert {t.queue_name for t in targets} == ({queue} & {cluster.queue_name, "compute.local"}), queue
    other = make_target(workspace, owner, name="gpu-cluster")
    both = ComputeTarget.objects.on_queues({cluster.queue_name, other.queue_name})
    assert set(both.values_list("name", flat=True)) == {"cpu-cluster", "gpu-cluster"}


SCORE_WHERE = """
import json, os

def init():
    pass

def run(raw_data):
    # The instance's own folder: which instance (and so which node) answered.
    return {"instance": os.path.basename(os.path.dirname(os.environ["AZUREML_MODEL_DIR"]))}
"""


@pytest.mark.timeout(420)
def test_two_nodes_each_run_an_instance_and_a_killed_nodes_instance_moves(
    client, workers, workspace, owner, serve_env, sklearn_model
):
    workers.env["STUDIO_NODE_UNREACHABLE_SECONDS"] = "4"  # the reaper's rule, short for the test
    cluster = make_target(workspace, owner, name="serve-cluster", max_instances=2)
    env_version, _ = serve_env
    with purged(cluster.queue_name):
        first = workers.start("ws-main/serve-cluster")
        workers.start("ws-main/serve-cluster")
        wait_for(lambda: cluster.nodes().filter(state="Ready").count() == 2, 60, what="two Ready nodes")
        endpoint, deployment = deploy_script(
            workspace, owner, env_version, SCORE_WHERE, "spread-ep", compute="serve-cluster", instance_count=2
        )
        services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)

        def all_ready():
            rows = _rows(deployment)
            return len(rows) == 2 and all(r.status == InstanceStatus.READY for r in rows) and rows

        rows = wait_for(all_ready, 180, what="two ready instances")
        assert len({r.node_id for r in rows}) == 2, "one instance on each node"
        url = f"/endpoints/{workspace.name}/spread-ep/score"
        key = keys.read(endpoint)["primary"]

        def score() -> str:
            answer = client.post(
                url, {"data": [[1]]}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
            )
            assert answer.status_code == 200, answer.content
            return answer.json()["instance"]

        assert {score() for _ in range(6)} == {str(r.pk) for r in rows}, "both nodes' instances serve"

        # Kill the first node's worker outright: no goodbye, its heartbeat just stops.
        lost = Node.objects.get(pid=first.pid)
        workers.stop(first, sig=signal.SIGKILL)
        for _ in range(10):  # the other instance answers meanwhile (a refused one is passed over)
            score()
            time.sleep(0.2)

        def moved():
            rows = all_ready()
            return rows and all(r.node_id != lost.pk for r in rows) and rows

        rows = wait_for(moved, 120, what="the lost node's instance to run on the other node")
        assert {score() for _ in range(6)} == {str(r.pk) for r in rows}
