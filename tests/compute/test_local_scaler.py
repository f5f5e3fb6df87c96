"""The built-in local scaler starts and stops real `studio_worker` processes for a cluster: at least
min_instances, one per unfinished job up to max_instances, fewer only after the idle time; and
no process it started outlives it (nor the local worker that runs it)."""

from __future__ import annotations

import os
import signal

import pytest

from compute.local_scaler import LocalScaler
from compute.models import ComputeTarget, NodeState
from jobs.models import JobStatus
from tests.compute.conftest import make_target, purged, wait_for, worker_env, workers  # noqa: F401 - fixtures
from tests.compute.test_scaling import make_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is not running either.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def ready_nodes(target) -> int:
    return target.nodes().filter(state=NodeState.READY).count()


@pytest.fixture
def scaler(worker_env):  # noqa: F811
    the_scaler = LocalScaler(interval=1, env=worker_env, pool="solo")
    yield the_scaler
    the_scaler.stop(timeout=20)


def test_the_local_scaler_keeps_a_cluster_between_min_and_max_and_scales_down_when_idle(scaler, workspace, owner):
    target = make_target(workspace, owner, name="auto", min_instances=1, max_instances=2)
    ComputeTarget.objects.filter(pk=target.pk).update(idle_time_before_scale_down=1)
    with purged(target.queue_name):
        scaler.round()  # min_instances: one node with no job at all
        assert len(scaler.alive(target)) == 1
        wait_for(lambda: ready_nodes(target) == 1, 90, what="the first node to register")

        jobs = [make_job(target, JobStatus.QUEUED) for _ in range(3)]
        scaler.round()  # three jobs wait, max_instances is 2
        scaler.round()
        assert len(scaler.alive(target)) == 2
        wait_for(lambda: ready_nodes(target) == 2, 90, what="the second node to register")
        target.refresh_from_db()
        assert target.desired_nodes == 2 and "2 local node" in target.scaler_status

        for job in jobs:
            type(job).objects.filter(pk=job.pk).update(status=JobStatus.CANCELED)
        scaler.round()  # demand fell, but not for idle_time_before_scale_down yet
        assert len(scaler.alive(target)) == 2
        first = {p.pid for p in scaler.alive(target)}
        wait_for(lambda: scaler.round() or len(scaler.alive(target)) == 1, 20, 0.5, "the scale-down")
        stopped = (first - {p.pid for p in scaler.alive(target)}).pop()
        wait_for(lambda: not pid_alive(stopped), 30, what="the stopped node to exit")
        wait_for(lambda: ready_nodes(target) == 1, 30, what="the node to leave")

        left = [p.pid for p in scaler.alive(target)]
        scaler.stop(timeout=20)
    assert not any(pid_alive(pid) for pid in left), "a node outlived the scaler"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_stopping_the_local_worker_stops_the_nodes_it_started(workers, workspace, owner, sig):  # noqa: F811
    target = make_target(workspace, owner, name="auto-one", min_instances=1, max_instances=1)
    workers.env = workers.env | {"STUDIO_LOCAL_SCALER": "true", "STUDIO_LOCAL_SCALER_SECONDS": "1"}
    with purged(target.queue_name, "local"):
        local = workers.start("local")
        node = wait_for(lambda: target.nodes().filter(state=NodeState.READY).first(), 120, what="a scaled node")
        assert pid_alive(node.pid)
        assert workers.stop(local, sig=sig, timeout=60) is not None
        # Killed, the worker cannot stop its nodes itself: the kernel tells them (PR_SET_PDEATHSIG).
        wait_for(lambda: not pid_alive(node.pid), 30, what="the node to stop with the local worker")
    node.refresh_from_db()
    assert node.state == NodeState.STOPPED, node.state


def test_a_started_instance_gets_its_node_and_a_stopped_one_loses_it(scaler, workspace, owner, members):
    from compute import services

    box = make_target(workspace, owner, name="ds-box", type="computeinstance", assigned_to="datascientist_user")
    with purged(box.queue_name):
        scaler.round()
        assert len(scaler.alive(box)) == 1
        wait_for(lambda: ready_nodes(box) == 1, 90, what="the instance's node")
        services.do_stop_compute(box, actor=owner)
        node_pid = scaler.alive(box)[0].pid
        scaler.round()
        assert scaler.alive(box) == []
        wait_for(lambda: not pid_alive(node_pid), 30, what="the instance's node to exit")
        services.do_start_compute(ComputeTarget.objects.get(pk=box.pk), actor=owner)
        scaler.round()
        assert len(scaler.alive(box)) == 1


def test_the_local_scaler_starts_no_more_nodes_than_this_machines_limit(scaler, workspace, owner, settings):
    settings.STUDIO_LOCAL_SCALER_MAX_NODES = 1
    first = make_target(workspace, owner, name="one", min_instances=1, max_instances=1)
    second = make_target(workspace, owner, name="two", min_instances=1, max_instances=1)
    with purged(first.queue_name, second.queue_name):
        scaler.round()
        assert scaler.total() == 1
        capped = [
            t for t in ComputeTarget.objects.filter(pk__in=[first.pk, second.pk]) if "limit of 1" in t.scaler_status
        ]
        assert len(capped) == 1
