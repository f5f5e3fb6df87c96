"""Nodes as the services see them: registration, heartbeats and what they steer, the reaper's
Unreachable threshold and `node_lost`, drain, and the states of targets that follow."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from compute import services
from compute.models import LOCAL_QUEUE, ComputeTarget, Node, NodeState, TargetState
from compute.services import Directive, NodeRefused
from compute.signals import node_lost
from studio.errors import Conflict
from studio.models import ActivityEvent
from tests.compute.conftest import register

pytestmark = pytest.mark.django_db


def beat(node, **kw):
    kw.setdefault("running", 0)
    return services.do_record_heartbeat(node.pk, **kw)


def age(node, seconds):
    Node.objects.filter(pk=node.pk).update(last_heartbeat=timezone.now() - timedelta(seconds=seconds))


def test_a_registered_node_is_ready_and_reports_its_machine(cluster):
    node = register(cluster)
    assert node.state == NodeState.READY and node.target == cluster and node.queue == cluster.queue_name
    assert node.cpu_count == 2 and node.memory_mb == 4096
    assert ActivityEvent.objects.filter(verb="compute.node_joined", target=cluster.name).exists()


def test_local_nodes_serve_the_shared_local_queue(workspace, owner):
    node = services.do_register_node(
        queue=LOCAL_QUEUE, worker_name="local@h", hostname="h", pid=1, capacity=2, report={}
    )
    assert node.target is None
    local = ComputeTarget.objects.get(workspace=workspace, name="local")
    assert list(local.nodes()) == [node]


def test_unknown_queues_and_targets_are_refused(workspace):
    with pytest.raises(NodeRefused, match="not a compute queue"):
        services.do_register_node(queue="studio", worker_name="w", hostname="h", pid=1, capacity=1, report={})
    with pytest.raises(NodeRefused, match="no compute target ws-main/ghost"):
        services.do_register_node(
            queue="compute.ws-main.ghost", worker_name="w", hostname="h", pid=1, capacity=1, report={}
        )


def test_a_cluster_takes_nodes_up_to_max_instances_job_slots(cluster):
    register(cluster, "a@h")
    register(cluster, "b@h")
    with pytest.raises(NodeRefused, match="allows 2 concurrent job"):
        register(cluster, "c@h")
    # a node that went silent no longer counts
    age(Node.objects.get(worker_name="a@h"), 3600)
    register(cluster, "c@h")


def test_an_instance_has_one_node(instance):
    register(instance, "a@h")
    with pytest.raises(NodeRefused, match="already served by node a@h"):
        register(instance, "b@h")


def test_a_heartbeat_refreshes_the_node_and_its_running_jobs(cluster):
    node = register(cluster)
    age(node, 20)
    assert beat(node, running=1, running_tasks=[{"id": "t1", "name": "jobs.run"}]) == Directive.RUN
    node.refresh_from_db()
    assert node.running == 1 and node.heartbeat_age < timedelta(seconds=5)


def test_a_node_silent_past_the_threshold_is_marked_unreachable_and_reported_lost(cluster, settings):
    settings.STUDIO_NODE_UNREACHABLE_SECONDS = 30
    quiet, chatty = register(cluster, "quiet@h"), register(cluster, "chatty@h")
    age(quiet, 29)
    assert services.reap_nodes() == []
    lost_events = []

    def receiver(sender, node, target, **kw):
        lost_events.append((node.worker_name, target.name))

    node_lost.connect(receiver)
    try:
        age(quiet, 31)
        lost = services.reap_nodes()
    finally:
        node_lost.disconnect(receiver)
    assert [n.worker_name for n in lost] == ["quiet@h"]
    assert lost_events == [("quiet@h", "cpu-cluster")]
    quiet.refresh_from_db()
    chatty.refresh_from_db()
    assert quiet.state == NodeState.UNREACHABLE and "No heartbeat since" in quiet.state_message
    assert chatty.state == NodeState.READY
    assert list(services.lost_nodes()) == [quiet]
    assert ActivityEvent.objects.filter(verb="compute.node_lost", data__node="quiet@h").exists()
    # reaping twice reports nothing new
    assert services.reap_nodes() == []


def test_pages_show_a_silent_node_unreachable_before_the_reaper_runs(cluster, settings):
    node = register(cluster)
    age(node, settings.STUDIO_NODE_UNREACHABLE_SECONDS + 5)
    node.refresh_from_db()
    assert node.state == NodeState.READY and node.shown_state == NodeState.UNREACHABLE


def test_a_target_whose_every_node_is_lost_is_unreachable_until_one_beats_again(cluster):
    node = register(cluster)
    age(node, 3600)
    services.reap_nodes()
    cluster.refresh_from_db()
    assert cluster.state == TargetState.UNREACHABLE
    assert beat(node) == Directive.RUN
    cluster.refresh_from_db()
    node.refresh_from_db()
    assert cluster.state == TargetState.RUNNING and node.state == NodeState.READY
    assert ActivityEvent.objects.filter(verb="compute.node_back").exists()


def test_drain_is_requested_then_the_node_drains_and_stops(cluster, owner, workspace):
    node = register(cluster)
    services.do_request_drain(node, target=cluster, actor=owner)
    assert beat(node, running=1) == Directive.DRAIN
    # the worker began its warm shutdown: it still reports, finishing its job
    assert beat(node, running=1, draining=True) == Directive.RUN
    node.refresh_from_db()
    assert node.state == NodeState.DRAINING
    services.mark_node_stopped(node.pk)
    node.refresh_from_db()
    assert node.state == NodeState.STOPPED and node.stopped_at is not None and node.running == 0
    assert ActivityEvent.objects.filter(verb="compute.node_drain_requested").exists()
    with pytest.raises(Conflict, match="nothing to drain"):
        services.do_request_drain(node, target=cluster, actor=owner)


def test_a_deleted_target_tells_its_nodes_to_go(cluster, owner):
    node = register(cluster)
    services.do_delete_compute(cluster, actor=owner)
    assert beat(node) == Directive.GONE


def test_stopping_an_instance_pauses_its_node_and_finishes_when_it_is_idle(instance, owner):
    node = register(instance)
    assert beat(node) == Directive.RUN
    instance.refresh_from_db()
    assert instance.state == TargetState.RUNNING  # Starting -> Running once its node beat
    services.do_stop_compute(instance, actor=owner)
    instance.refresh_from_db()
    assert instance.state == TargetState.STOPPING
    assert beat(node, running=1) == Directive.PAUSE
    # paused but still finishing a job: still Stopping
    assert beat(node, running=1, consuming=False) == Directive.RUN
    instance.refresh_from_db()
    assert instance.state == TargetState.STOPPING
    beat(node, running=0, consuming=False)
    instance.refresh_from_db()
    node.refresh_from_db()
    assert instance.state == TargetState.STOPPED and node.state == NodeState.PAUSED
    services.do_start_compute(instance, actor=owner)
    assert beat(node, consuming=False) == Directive.RESUME
    beat(node, consuming=True)
    instance.refresh_from_db()
    assert instance.state == TargetState.RUNNING


def test_stopping_an_instance_without_a_node_stops_it_at_once(instance, owner):
    services.do_stop_compute(instance, actor=owner)
    instance.refresh_from_db()
    assert instance.state == TargetState.STOPPED
    events = list(ActivityEvent.objects.filter(verb="compute.stopped").values_list("target", flat=True))
    assert events == ["ds-box"]
    services.do_stop_compute(instance, actor=owner)  # idempotent: no second event
    assert ActivityEvent.objects.filter(verb="compute.stopped").count() == 1


def test_a_node_of_a_stopped_instance_registers_paused(instance, owner):
    services.do_stop_compute(instance, actor=owner)
    node = register(instance)
    assert node.state == NodeState.PAUSED


def test_the_reaper_forgets_old_nodes(cluster):
    node = register(cluster)
    services.mark_node_stopped(node.pk)
    Node.objects.filter(pk=node.pk).update(stopped_at=timezone.now() - timedelta(days=2))
    services.reap_nodes()
    assert not Node.objects.filter(pk=node.pk).exists()


def test_the_nodes_api_lists_nodes_with_their_capabilities(cluster, owner):
    from tests.conftest import token_client

    register(cluster)
    body = token_client(owner).get(f"/api/v1/workspaces/ws-main/computes/{cluster.name}/nodes/").json()
    assert [n["worker_name"] for n in body] == ["w1@host"]
    assert body[0]["state"] == "Ready" and body[0]["cpu_count"] == 2


def test_the_reaper_and_autoscaler_are_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "compute.tasks.autoscale" in tasks
    # The reaper is a process of its own (it must work with every worker dead): jobs/reaper.py.
    procfile = (Path(settings.BASE_DIR) / "Procfile").read_text()
    assert "manage.py studio_reaper" in procfile


def test_an_instance_whose_node_left_waits_for_another(instance):
    node = register(instance)
    beat(node)
    instance.refresh_from_db()
    assert instance.state == TargetState.RUNNING
    services.mark_node_stopped(node.pk)
    instance.refresh_from_db()
    assert instance.state == TargetState.STARTING and "waiting for a node" in instance.state_message
