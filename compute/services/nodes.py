"""State changes of nodes: the functions a worker's node agent calls (`do_register_node`,
`do_record_heartbeat`, `mark_node_stopped`) and the reaper (`reap_nodes`), which finds nodes that
went silent. For the jobs app: store `self.request.hostname` of the running task as the job's node
(it equals `Node.worker_name`), and connect to `compute.signals.node_lost` (or poll `lost_nodes()`)
to fail the jobs of lost nodes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from compute.models import (
    LOCAL_QUEUE,
    ComputeTarget,
    ComputeType,
    DispatchProbe,
    Node,
    NodeState,
    TargetState,
)
from compute.signals import node_lost
from studio import activity

logger = logging.getLogger(__name__)

KEEP_NODE_HISTORY = timedelta(hours=24)
KEEP_PROBES = timedelta(days=1)


class NodeRefused(Exception):
    """A worker may not serve this queue (unknown target, cluster full, instance taken)."""


class Directive:
    """What `do_record_heartbeat` tells a node to do next."""

    RUN = "run"
    PAUSE = "pause"  # stop consuming (its instance was stopped)
    RESUME = "resume"  # consume again (its instance was started)
    DRAIN = "drain"  # finish running jobs, take no new ones, exit
    GONE = "gone"  # its target (or its row) was deleted: drain and exit


def target_for_queue(queue: str) -> ComputeTarget | None:
    """The target a queue belongs to; None for the shared local queue. NodeRefused otherwise."""
    if queue == LOCAL_QUEUE:
        return None
    parts = queue.split(".")
    if len(parts) != 3 or parts[0] != "compute":
        raise NodeRefused(f"{queue!r} is not a compute queue (compute.<workspace>.<name> or {LOCAL_QUEUE}).")
    target = (
        ComputeTarget.objects.select_related("workspace")
        .filter(workspace__name=parts[1], name=parts[2])
        .exclude(type=ComputeType.LOCAL)
        .first()
    )
    if target is None:
        raise NodeRefused(f"There is no compute target {parts[1]}/{parts[2]}. Create it first.")
    return target


def check_room(target: ComputeTarget | None, capacity: int, worker_name: str = "") -> None:
    """Refuse a node the target has no room for: a cluster's nodes provide at most max_instances
    job slots; an instance has one node."""
    if target is None:
        return
    others = target.nodes().responsive().exclude(worker_name=worker_name)
    if target.type == ComputeType.CLUSTER:
        used = others.aggregate(n=Sum("capacity"))["n"] or 0
        if used + capacity > target.max_instances:
            raise NodeRefused(
                f"Cluster {target.name} allows {target.max_instances} concurrent job(s) (max_instances) and its "
                f"nodes already provide {used}; this node would add {capacity}. Raise max_instances or stop a node."
            )
    elif target.type == ComputeType.INSTANCE:
        other = others.first()
        if other is not None:
            raise NodeRefused(f"Instance {target.name} is already served by node {other.worker_name}.")


@transaction.atomic
def do_register_node(*, queue: str, worker_name: str, hostname: str, pid: int, capacity: int, report: Mapping) -> Node:
    """A worker announces itself for `queue` (called when it is ready to consume)."""
    target = target_for_queue(queue)
    if target is not None:
        target = ComputeTarget.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=target.pk)
    check_room(target, capacity, worker_name)
    paused = target is not None and _should_pause(target)
    now = timezone.now()
    node, _ = Node.objects.update_or_create(
        worker_name=worker_name,
        queue=queue,
        defaults={
            "target": target,
            "hostname": hostname,
            "pid": pid,
            "capacity": capacity,
            "state": NodeState.PAUSED if paused else NodeState.READY,
            "state_message": "",
            "started_at": now,
            "last_heartbeat": now,
            "stopped_at": None,
            "running": 0,
            "running_tasks": [],
            "drain_requested": False,
            **_report_fields(report),
        },
    )
    if target is not None:
        _target_after_beat(target, node)
        activity.record(target.workspace, None, "compute.node_joined", target.name, node=worker_name)
    return node


def _report_fields(report: Mapping) -> dict:
    keys = ("cpu_count", "memory_mb", "gpus", "backends", "pythons")
    return {k: report[k] for k in keys if k in report}


def _should_pause(target: ComputeTarget) -> bool:
    return target.type == ComputeType.INSTANCE and target.state in (TargetState.STOPPING, TargetState.STOPPED)


@transaction.atomic
def do_record_heartbeat(
    node_id: int,
    *,
    running: int,
    running_tasks: list | None = None,
    consuming: bool = True,
    draining: bool = False,
    report: Mapping | None = None,
) -> str:
    """A node's periodic "still here": what it runs, whether it consumes. Returns a Directive."""
    node = Node.objects.select_for_update(of=("self",)).filter(pk=node_id).first()
    if node is None:
        return Directive.GONE
    target = None
    if node.target_id is not None:
        target = (
            ComputeTarget.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=node.target_id)
        )
    was_lost = node.state == NodeState.UNREACHABLE
    node.last_heartbeat = timezone.now()
    node.running = running
    node.running_tasks = (running_tasks or [])[:50]
    node.stopped_at = None
    if draining:
        node.state, node.state_message = NodeState.DRAINING, "Finishing running jobs; takes no new ones."
    elif consuming:
        node.state, node.state_message = NodeState.READY, ""
    else:
        node.state, node.state_message = NodeState.PAUSED, "Its instance is stopped: it consumes nothing."
    for key, value in _report_fields(report or {}).items():
        setattr(node, key, value)
    node.save()
    if was_lost and target is not None:
        activity.record(target.workspace, None, "compute.node_back", target.name, node=node.worker_name)
    if target is not None:
        _target_after_beat(target, node)
    if draining:
        return Directive.RUN
    if node.drain_requested:
        return Directive.DRAIN
    if target is not None and target.type == ComputeType.INSTANCE:
        if _should_pause(target):
            return Directive.PAUSE if consuming else Directive.RUN
        if not consuming:
            return Directive.RESUME
    return Directive.RUN


def _target_after_beat(target: ComputeTarget, node: Node) -> None:
    """Move the target's state along after one of its nodes reported."""
    if node.state == NodeState.READY and target.state in (TargetState.STARTING, TargetState.UNREACHABLE):
        _set_target_state(target, TargetState.RUNNING)
    elif target.state == TargetState.STOPPING:
        _maybe_stopped(target)


def _maybe_stopped(target: ComputeTarget) -> None:
    """A Stopping instance is Stopped once no node of it consumes or runs anything."""
    busy = target.nodes().responsive().filter(Q(state=NodeState.READY) | Q(running__gt=0)).exists()
    if not busy:
        _set_target_state(target, TargetState.STOPPED)


def _set_target_state(target: ComputeTarget, state: str, message: str = "") -> None:
    ComputeTarget.objects.filter(pk=target.pk).update(state=state, state_message=message, updated_at=timezone.now())
    target.state, target.state_message = state, message


@transaction.atomic
def mark_node_stopped(node_id: int, *, message: str = "") -> None:
    """The worker process is exiting (after a drain or warm shutdown)."""
    node = Node.objects.select_for_update(of=("self",)).filter(pk=node_id).first()
    if node is None or node.state == NodeState.STOPPED:
        return
    now = timezone.now()
    node.state, node.state_message = NodeState.STOPPED, message
    node.stopped_at, node.last_heartbeat, node.running, node.running_tasks = now, now, 0, []
    node.save()
    if node.target_id is not None:
        target = (
            ComputeTarget.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=node.target_id)
        )
        activity.record(target.workspace, None, "compute.node_left", target.name, node=node.worker_name)
        if target.state == TargetState.STOPPING:
            _maybe_stopped(target)
        elif (
            target.type == ComputeType.INSTANCE
            and target.state == TargetState.RUNNING
            and not target.nodes().responsive().exists()
        ):
            # Still started (it accepts jobs), but nothing serves it until a node comes back.
            _set_target_state(target, TargetState.STARTING, "Its node stopped; waiting for a node to serve it.")


def reap_nodes(now: datetime | None = None) -> list[Node]:
    """Mark nodes silent for longer than STUDIO_NODE_UNREACHABLE_SECONDS as Unreachable, send
    `node_lost` for each, and settle their targets. Also forgets old node rows and probes.
    Returns the nodes marked lost in this round."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.STUDIO_NODE_UNREACHABLE_SECONDS)
    lost = []
    for node in Node.objects.silent_since(cutoff).select_related("target__workspace"):
        with transaction.atomic():
            marked = (
                Node.objects.filter(pk=node.pk, state=node.state, last_heartbeat__lt=cutoff).update(
                    state=NodeState.UNREACHABLE,
                    stopped_at=now,
                    state_message=f"No heartbeat since {node.last_heartbeat:%Y-%m-%d %H:%M:%S} UTC.",
                )
                == 1
            )
            if marked and node.target is not None:
                activity.record(
                    node.target.workspace, None, "compute.node_lost", node.target.name, node=node.worker_name
                )
        if marked:
            node.state = NodeState.UNREACHABLE
            lost.append(node)
            logger.warning("node %s (%s) stopped heart-beating: marked Unreachable", node.worker_name, node.queue)
            node_lost.send(sender=Node, node=node, target=node.target)
    _settle_targets({n.target_id for n in lost if n.target_id})
    Node.objects.filter(
        state__in=(NodeState.STOPPED, NodeState.UNREACHABLE), stopped_at__lt=now - KEEP_NODE_HISTORY
    ).delete()
    DispatchProbe.objects.filter(sent_at__lt=now - KEEP_PROBES).delete()
    return lost


def _settle_targets(lost_target_ids: set[int]) -> None:
    """Targets whose last nodes were lost are Unreachable; Stopping ones with no node are Stopped."""
    for target in ComputeTarget.objects.filter(
        Q(pk__in=lost_target_ids) | Q(state=TargetState.STOPPING)
    ).select_related("workspace"):
        with transaction.atomic():
            if target.state == TargetState.STOPPING:
                _maybe_stopped(target)
            elif target.state == TargetState.RUNNING and not target.nodes().responsive().exists():
                _set_target_state(target, TargetState.UNREACHABLE, "Every node stopped heart-beating.")


def lost_nodes(since: datetime | None = None) -> QuerySet[Node]:
    """Nodes marked Unreachable (optionally since a time): for the jobs app's own sweeps."""
    nodes = Node.objects.filter(state=NodeState.UNREACHABLE)
    return nodes.filter(stopped_at__gte=since) if since else nodes
