"""Real nodes: `manage.py studio_worker` processes against the real broker (Redis) and this test's
database. A task sent to target A is run only by A's nodes; nodes register, heart-beat, pause
with their instance, drain, stop, and are found Unreachable when killed."""

import signal
import time

import pytest
from django.core.management import CommandError, call_command

from compute import services
from compute.models import DispatchProbe, Node, NodeState, TargetState
from compute.signals import node_lost
from tests.compute.conftest import make_target, purged, register, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def ready_node(target, timeout=60) -> Node:
    return wait_for(
        lambda: target.nodes().filter(state=NodeState.READY).first(), timeout, what=f"a Ready node for {target.name}"
    )


def started(probes, timeout=30):
    ids = [p.pk for p in probes]
    wait_for(
        lambda: DispatchProbe.objects.filter(pk__in=ids, started_at__isnull=False).count() == len(ids),
        timeout,
        what=f"{len(ids)} probes to start",
    )
    return list(DispatchProbe.objects.filter(pk__in=ids))


def test_tasks_for_a_target_are_run_only_by_its_own_nodes(workers, workspace, owner):
    alpha = make_target(workspace, owner, name="alpha", max_instances=2)
    beta = make_target(workspace, owner, name="beta", max_instances=2)
    idle = make_target(workspace, owner, name="nobody-home")
    with purged(alpha.queue_name, beta.queue_name, idle.queue_name):
        a = workers.start("ws-main/alpha")
        b = workers.start("ws-main/beta")
        a_node, b_node = ready_node(alpha), ready_node(beta)
        assert a_node.worker_name != b_node.worker_name
        to_a = [services.do_send_probe(alpha, actor=owner) for _ in range(10)]
        to_b = [services.do_send_probe(beta, actor=owner) for _ in range(10)]
        lonely = services.do_send_probe(idle, actor=owner)
        assert {p.worker_name for p in started(to_a)} == {a_node.worker_name}
        assert {p.worker_name for p in started(to_b)} == {b_node.worker_name}
        time.sleep(1.5)
        lonely.refresh_from_db()
        assert lonely.started_at is None, "no node serves that queue, so nothing may run it"
        assert workers.stop(a) == 0 and workers.stop(b) == 0
    for node in (a_node, b_node):
        node.refresh_from_db()
        assert node.state == NodeState.STOPPED


def test_a_node_reports_its_machine_and_heart_beats(workers, workspace, owner):
    target = make_target(workspace, owner, name="hb")
    proc = workers.start("ws-main/hb")
    node = ready_node(target)
    assert node.cpu_count >= 1 and node.memory_mb > 0 and node.capacity == 1
    assert set(node.backends) == {"venv", "docker"} and all("available" in v for v in node.backends.values())
    assert node.pythons and all(p["version"].startswith("3.") for p in node.pythons)
    first = node.last_heartbeat
    wait_for(lambda: Node.objects.get(pk=node.pk).last_heartbeat > first, 10, what="a second heartbeat")
    assert workers.stop(proc) == 0


def test_drain_lets_the_running_job_finish_and_takes_no_new_one(workers, workspace, owner):
    target = make_target(workspace, owner, name="drainer")
    with purged(target.queue_name):
        proc = workers.start("ws-main/drainer")
        node = ready_node(target)
        busy = services.do_send_probe(target, actor=owner, hold_seconds=4)
        started([busy])
        services.do_request_drain(node, target=target, actor=owner)
        wait_for(lambda: Node.objects.get(pk=node.pk).state == NodeState.DRAINING, 10, what="Draining")
        later = services.do_send_probe(target, actor=owner)
        assert proc.wait(30) == 0
    log = workers.log(proc)
    assert "compute.tasks.probe[" in log and "succeeded" in log, log[-3000:]
    later.refresh_from_db()
    assert later.started_at is None, "a draining node takes no new job"
    node.refresh_from_db()
    assert node.state == NodeState.STOPPED


def test_sigterm_drains_like_the_button(workers, workspace, owner):
    target = make_target(workspace, owner, name="termed")
    with purged(target.queue_name):
        proc = workers.start("ws-main/termed")
        node = ready_node(target)
        busy = services.do_send_probe(target, actor=owner, hold_seconds=3)
        started([busy])
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: Node.objects.get(pk=node.pk).state == NodeState.DRAINING, 10, what="Draining")
        assert proc.wait(30) == 0
    assert "succeeded" in workers.log(proc)
    assert Node.objects.get(pk=node.pk).state == NodeState.STOPPED


def test_a_stopped_instance_pauses_its_node_and_a_start_resumes_it(workers, workspace, owner):
    box = make_target(workspace, owner, name="paused-box", type="computeinstance")
    assert box.state == TargetState.STARTING
    with purged(box.queue_name):
        workers.start("ws-main/paused-box")
        node = ready_node(box)
        wait_for(lambda: box.__class__.objects.get(pk=box.pk).state == TargetState.RUNNING, 10, what="Running")
        services.do_stop_compute(box, actor=owner)
        wait_for(lambda: box.__class__.objects.get(pk=box.pk).state == TargetState.STOPPED, 15, what="Stopped")
        assert Node.objects.get(pk=node.pk).state == NodeState.PAUSED
        waiting = services.do_send_probe(box, actor=owner)
        time.sleep(2.5)
        waiting.refresh_from_db()
        assert waiting.started_at is None, "a paused node consumes nothing"
        services.do_start_compute(box, actor=owner)
        started([waiting], timeout=20)
        wait_for(lambda: box.__class__.objects.get(pk=box.pk).state == TargetState.RUNNING, 10, what="Running")


def test_a_killed_node_is_found_unreachable_and_reported_lost(workers, workspace, owner, settings):
    target = make_target(workspace, owner, name="doomed")
    proc = workers.start("ws-main/doomed")
    node = ready_node(target)
    workers.stop(proc, sig=signal.SIGKILL)
    settings.STUDIO_NODE_UNREACHABLE_SECONDS = 2
    lost = []
    node_lost.connect(lambda sender, node, **kw: lost.append(node.worker_name), weak=False, dispatch_uid="t")
    try:
        time.sleep(3)
        services.reap_nodes()
    finally:
        node_lost.disconnect(dispatch_uid="t")
    node.refresh_from_db()
    assert node.state == NodeState.UNREACHABLE and lost == [node.worker_name]
    target.refresh_from_db()
    assert target.state == TargetState.UNREACHABLE


def test_the_worker_command_refuses_a_full_cluster_and_unknown_targets(transactional_db, workspace, owner):
    full = make_target(workspace, owner, name="full", max_instances=1)
    register(full, "busy@h")
    with pytest.raises(CommandError, match="allows 1 concurrent job"):
        call_command("studio_worker", "--compute", "ws-main/full")
    with pytest.raises(CommandError, match="no compute target ws-main/ghost"):
        call_command("studio_worker", "--compute", "ws-main/ghost")
    with pytest.raises(CommandError, match="<workspace>/<name>"):
        call_command("studio_worker", "--compute", "ghost")


def test_a_plain_celery_worker_on_a_compute_queue_is_a_node_too(workers, workspace, owner):
    target = make_target(workspace, owner, name="plain")
    with purged(target.queue_name):
        proc = workers.start_celery(target.queue_name, "ws-main.plain.1@%h")
        node = ready_node(target)
        assert node.worker_name.startswith("ws-main.plain.1@") and node.capacity == 1
        probe = services.do_send_probe(target, actor=owner)
        assert started([probe])[0].worker_name == node.worker_name
        assert workers.stop(proc) == 0
    assert Node.objects.get(pk=node.pk).state == NodeState.STOPPED


def test_a_plain_worker_on_a_queue_without_a_target_stops_with_the_reason(workers, workspace):
    proc = workers.start_celery("compute.ws-main.ghost", "ghost.1@%h")
    assert proc.wait(60) == 0
    assert "may not serve compute.ws-main.ghost: There is no compute target ws-main/ghost" in workers.log(proc)
    assert not Node.objects.exists()
