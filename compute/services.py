"""State changes of compute targets and their nodes: one function each.

Targets change through `do_*` functions called by pages, the API and the CLI alike. Nodes change
through the functions a worker's node agent calls (`do_register_node`, `do_record_heartbeat`,
`mark_node_stopped`) and through the reaper (`reap_nodes`), which finds nodes that went silent.

For the jobs app:
- `check_can_accept(target, user)` before submitting a job to a target (raises ValidationError);
- route the run with `apply_async(queue=target.queue_name)`;
- store `self.request.hostname` of the running task as the job's node: it equals `Node.worker_name`;
- connect to `compute.signals.node_lost` (or poll `lost_nodes()`) to fail the jobs of lost nodes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, QuerySet, Sum
from django.utils import timezone

from compute import demand, engines
from compute.models import (
    LOCAL_NAME,
    LOCAL_QUEUE,
    Backend,
    ComputeTarget,
    ComputeType,
    DispatchProbe,
    Node,
    NodeState,
    TargetState,
)
from compute.signals import node_lost
from compute.spec import CleanSpec, clean_changes, clean_new
from studio import activity, crypto
from studio.actor import Actor
from studio.errors import Conflict
from studio.models import Membership, Workspace
from studio.permissions import (
    VIEW,
    can,
    can_manage_machine,
    can_operate_compute,
    machine_denied_message,
    operate_denied_message,
)

logger = logging.getLogger(__name__)
User = get_user_model()

LOCAL_DEFAULTS = {
    "type": ComputeType.LOCAL,
    "backend": Backend.VENV,
    "state": TargetState.RUNNING,
    "size": "",
    "cpu_cores": Decimal(2),
    "memory_mb": 4096,
    "gpus": 0,
    "description": "Built in: processes on the worker that serves the local queue of this Studio server.",
}
KIND_WORDS: dict[str, str] = {  # for activity sentences: "created the compute cluster cpu"
    ComputeType.CLUSTER: "compute cluster",
    ComputeType.INSTANCE: "compute instance",
    ComputeType.ATTACHED: "attached Docker engine",
    ComputeType.DOCKER: "Docker target",
    ComputeType.LOCAL: "local target",
}
# Settings of the shared local target that affect the whole machine (its per-job limits).
MACHINE_FIELDS = ("size", "cpu_cores", "memory_mb", "gpus", "backend")
KEEP_NODE_HISTORY = timedelta(hours=24)
KEEP_PROBES = timedelta(days=1)


# --- targets ---------------------------------------------------------------------------------


def create_local_target(workspace: Workspace, actor: Actor) -> ComputeTarget:
    """The built-in `local` target every workspace has (a WORKSPACE_CREATED_HOOKS entry)."""
    target, _ = ComputeTarget.objects.get_or_create(
        workspace=workspace, name=LOCAL_NAME, defaults=LOCAL_DEFAULTS | {"created_by": actor}
    )
    return target


def do_create_compute(workspace: Workspace, *, data: Mapping, actor: Actor) -> ComputeTarget:
    """Create a target from a definition (JSON body, YAML mapping or form values).

    An attached engine is contacted before anything is written and outside the transaction: a
    slow engine must not hold a database write lock (SQLite takes it at BEGIN). The notices of
    keys accepted but ignored are left on `target.notices`.
    """
    spec = clean_new(data)
    if spec.type == ComputeType.INSTANCE:
        spec.values["assigned_to"] = _assignee(workspace, spec.assigned_username or actor.get_username())
    _check_unique(workspace, spec.values["name"])
    if spec.type == ComputeType.ATTACHED:
        tls = spec.tls if spec.tls_given else None
        spec.values["engine_info"] = engines.check_engine(spec.values["docker_host"], tls)
    target = _insert(workspace, spec, actor)
    target.notices = spec.notices
    return target


def _check_unique(workspace: Workspace, name: str) -> None:
    if ComputeTarget.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise Conflict({"name": [f"A compute target named {name!r} already exists in {workspace.name}."]})


@transaction.atomic
def _insert(workspace: Workspace, spec: CleanSpec, actor: Actor) -> ComputeTarget:
    _check_unique(workspace, spec.values["name"])
    target = ComputeTarget(workspace=workspace, created_by=actor, **spec.values)
    if spec.type == ComputeType.INSTANCE:
        target.state = TargetState.STARTING
        target.state_message = "Waiting for a node to serve it."
    if spec.tls_given and spec.tls:
        target.tls_encrypted = crypto.encrypt_json(spec.tls)
    target.full_clean(exclude=["workspace", "created_by", "assigned_to"], validate_constraints=False)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise Conflict({"name": [f"A compute target named {target.name!r} already exists in {workspace.name}."]})
    activity.record(workspace, actor, "compute.created", target.name, kind=KIND_WORDS[target.type])
    return target


def _assignee(workspace: Workspace, username: str) -> Actor:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ValidationError({"assigned_to": [f"{username!r} is not a member of {workspace.name}."]})
    if not can(user, workspace, VIEW):
        raise ValidationError({"assigned_to": [f"{username} cannot view {workspace.name}."]})
    return user


def do_update_compute(target: ComputeTarget, *, data: Mapping, actor: Actor) -> ComputeTarget:
    """Change some settings of a target. Name and type stay; an attached engine whose address or
    TLS material changes is contacted again before saving."""
    spec = clean_changes(target, data)
    machine = [f for f in MACHINE_FIELDS if f in spec.values and spec.values[f] != getattr(target, f)]
    if machine and not can_manage_machine(actor, target):
        raise PermissionDenied(machine_denied_message(target))
    if spec.assigned_username is not None:
        spec.values["assigned_to"] = _assignee(target.workspace, spec.assigned_username)
    if target.type == ComputeType.ATTACHED and ("docker_host" in spec.values or spec.tls_given):
        host = spec.values.get("docker_host", target.docker_host)
        tls = spec.tls if spec.tls_given else (crypto.decrypt_json(target.tls_encrypted) or None)
        if host != target.docker_host or spec.tls_given:
            spec.values["engine_info"] = engines.check_engine(host, tls)
    target = _apply_changes(target, spec, actor)
    target.notices = spec.notices
    return target


@transaction.atomic
def _apply_changes(target: ComputeTarget, spec: CleanSpec, actor: Actor) -> ComputeTarget:
    target = ComputeTarget.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=target.pk)
    changed = []
    for field, value in spec.values.items():
        if getattr(target, field) != value:
            setattr(target, field, value)
            if field != "engine_info":
                changed.append(field)
    if spec.tls_given:
        new = crypto.encrypt_json(spec.tls) if spec.tls else ""
        if (spec.tls or {}) != (crypto.decrypt_json(target.tls_encrypted) if target.tls_encrypted else {}):
            changed.append("tls")
        target.tls_encrypted = new
    if changed or "engine_info" in spec.values:
        target.full_clean(exclude=["workspace", "created_by", "assigned_to"], validate_constraints=False)
        target.save()
    if changed:
        activity.record(target.workspace, actor, "compute.updated", target.name, fields=changed)
    return target


@transaction.atomic
def do_delete_compute(target: ComputeTarget, *, actor: Actor) -> None:
    """Delete a target. Refused for the built-in local target and while jobs wait or run on it;
    its nodes' rows go with it and their workers drain and exit at their next heartbeat."""
    if target.type == ComputeType.LOCAL:
        raise Conflict({"detail": ["The built-in local target cannot be deleted."]})
    unfinished = demand.counts(target)
    if unfinished.total:
        raise Conflict(
            {
                "detail": [
                    f"{target.name} has {unfinished.queued} queued and {unfinished.running} running job(s): "
                    "cancel them or let them finish first."
                ]
            }
        )
    workspace, name = target.workspace, target.name
    try:
        target.delete()
    except ProtectedError:
        raise Conflict({"detail": [f"{name} is still referenced by jobs and cannot be deleted."]})
    activity.record(workspace, actor, "compute.deleted", name)


@transaction.atomic
def do_start_compute(target: ComputeTarget, *, actor: Actor) -> ComputeTarget:
    """Start a compute instance: it accepts jobs again and its paused node resumes consuming (the
    instance is Starting until a node confirms, then Running). Idempotent."""
    target = _lock(target)
    _require_instance(target, "started")
    if target.state in (TargetState.RUNNING, TargetState.STARTING):
        return target
    target.state = TargetState.STARTING
    target.state_message = "Waiting for a node to serve it."
    target.save(update_fields=["state", "state_message", "updated_at"])
    activity.record(target.workspace, actor, "compute.started", target.name)
    return target


@transaction.atomic
def do_stop_compute(target: ComputeTarget, *, actor: Actor) -> ComputeTarget:
    """Stop a compute instance: it accepts no new jobs at once; its node stops consuming at its
    next heartbeat and lets running jobs finish (Stopping), then it is Stopped. Idempotent."""
    target = _lock(target)
    _require_instance(target, "stopped")
    if target.state in (TargetState.STOPPED, TargetState.STOPPING):
        return target
    if target.nodes().responsive().exists():
        target.state = TargetState.STOPPING
        target.state_message = "Its node finishes running jobs and takes no new ones."
    else:
        target.state = TargetState.STOPPED
        target.state_message = ""
    target.save(update_fields=["state", "state_message", "updated_at"])
    activity.record(target.workspace, actor, "compute.stopped", target.name)
    return target


def _lock(target: ComputeTarget) -> ComputeTarget:
    return (
        ComputeTarget.objects.select_for_update(of=("self",))
        .select_related("workspace", "assigned_to")
        .get(pk=target.pk)
    )


def _require_instance(target: ComputeTarget, verb: str) -> None:
    if target.type != ComputeType.INSTANCE:
        raise Conflict(
            {
                "detail": [
                    f"Only compute instances are {verb} here. {target.name} is a {target.get_type_display().lower()}: "
                    "its nodes come and go with their worker processes (drain a node to stop it)."
                ]
            }
        )


@transaction.atomic
def do_request_node(target: ComputeTarget, *, actor: Actor) -> ComputeTarget:
    """ "Start a node": ask the local scaler for one more node of a cluster now (up to
    max_instances). The autoscaler lowers the count again once the cluster has been idle for
    idle_time_before_scale_down, as for any node it started."""
    target = _lock(target)
    if target.type != ComputeType.CLUSTER:
        raise Conflict({"detail": [f"{target.name} is not a cluster: start an instance with its Start button."]})
    live = target.nodes().responsive().count()
    wanted = max(target.desired_nodes, live) + 1
    if wanted > target.max_instances:
        raise Conflict(
            {
                "detail": [
                    f"{target.name} already has {max(target.desired_nodes, live)} of at most "
                    f"{target.max_instances} node(s) (max_instances)."
                ]
            }
        )
    target.desired_nodes = wanted
    target.demand_low_since = None
    target.save(update_fields=["desired_nodes", "demand_low_since", "updated_at"])
    activity.record(target.workspace, actor, "compute.node_requested", target.name, desired=wanted)
    return target


@transaction.atomic
def do_request_drain(node: Node, *, target: ComputeTarget, actor: Actor) -> Node:
    """Ask a node of `target` to finish its running jobs, take no new ones and exit (at its next
    heartbeat). The shared local worker is the Studio administrator's, not any workspace's."""
    if not can_manage_machine(actor, target):
        raise PermissionDenied(machine_denied_message(target))
    node = Node.objects.select_for_update(of=("self",)).select_related("target").get(pk=node.pk)
    if not node.is_live:
        raise Conflict({"detail": [f"Node {node.worker_name} is {node.state.lower()}; there is nothing to drain."]})
    if not node.drain_requested:
        node.drain_requested = True
        node.save(update_fields=["drain_requested"])
        target_name = node.target.name if node.target is not None else LOCAL_NAME
        activity.record(target.workspace, actor, "compute.node_drain_requested", target_name, node=node.worker_name)
    return node


def do_send_probe(target: ComputeTarget, *, actor: Actor | None, hold_seconds: float = 0) -> DispatchProbe:
    """Send a no-op task to the target's queue; the node that runs it records who and how fast.
    `actor` None is Studio itself (bench/dispatch.py)."""
    from compute import tasks

    if actor is not None and not can_manage_machine(actor, target):
        raise PermissionDenied(machine_denied_message(target))

    probe = DispatchProbe.objects.create(target=target, created_by=actor)
    if actor is not None:
        activity.record(target.workspace, actor, "compute.probe_sent", target.name)
    queue = target.queue_name

    def send() -> None:
        tasks.probe.apply_async(args=[probe.pk, time.time(), hold_seconds], queue=queue, expires=600)

    transaction.on_commit(send)
    return probe


def check_can_operate(user: Actor, target: ComputeTarget) -> ComputeTarget:
    """Start or stop `target`: PermissionDenied (403 on pages and in the API) unless `user` may
    (studio.permissions.can_operate_compute); returns the target."""
    if not can_operate_compute(user, target):
        raise PermissionDenied(operate_denied_message(target))
    return target


def check_can_accept(target: ComputeTarget, user: Actor) -> None:
    """Raise a ValidationError (on "compute") saying why a job of `user` cannot go to `target`."""
    kind = target.get_type_display()
    if target.type == ComputeType.INSTANCE:
        if target.assigned_to_id is None:
            _refuse(f"Instance {target.name} has no assigned user, so it runs nobody's jobs. Assign it first.")
        if target.assigned_to_id != user.pk:
            owner = target.assigned_to.get_username() if target.assigned_to else "someone else"
            _refuse(
                f"Instance {target.name} is assigned to {owner}: only their jobs run on it. "
                "Pick another compute target."
            )
        if target.state in (TargetState.STOPPED, TargetState.STOPPING):
            _refuse(f"Instance {target.name} is stopped: start it first.")
    if target.state == TargetState.FAILED:
        reason = f": {target.state_message}" if target.state_message else ""
        _refuse(f"{kind} {target.name} failed{reason}. Start it again or pick another compute target.")


def refusal_to_run(target: ComputeTarget | None, user: Actor | None) -> str:
    """Why a claimed job of `user` must not run on `target` now ("" when it may): a compute
    instance runs only its current assignee's jobs, so a job queued before it was reassigned fails
    at the claim instead of running in the new user's instance."""
    if target is None or target.type != ComputeType.INSTANCE:
        return ""
    assignee = ComputeTarget.objects.filter(pk=target.pk).values_list("assigned_to_id", "assigned_to__username").first()
    if assignee is None:
        return f"Compute instance {target.name} was deleted."
    assignee_id, username = assignee
    if user is None or assignee_id != user.pk:
        who = user.get_username() if user is not None else "a deleted user"
        now = f"now assigned to {username}" if username else "no longer assigned to anyone"
        return (
            f"Compute instance {target.name} is {now}; it runs only its assignee's jobs, so this job of {who} "
            "did not run. Submit it again to another compute target."
        )
    return ""


def _refuse(message: str) -> None:
    raise ValidationError({"compute": [message]})


@transaction.atomic
def do_record_scaler_call(target: ComputeTarget, *, previous: int, desired: int, ok: bool, status: str) -> None:
    """What the operator's scaler hook answered when asked for `desired` nodes: kept on the target
    for its page and in the activity log. A compute instance the hook could not start fails."""
    ComputeTarget.objects.filter(pk=target.pk).update(scaler_status=status, scaler_called_at=timezone.now())
    activity.record(
        target.workspace, None, "compute.scaled", target.name, previous=previous, desired=desired, status=status
    )
    if not ok and target.type == ComputeType.INSTANCE and target.state == TargetState.STARTING:
        ComputeTarget.objects.filter(pk=target.pk, state=TargetState.STARTING).update(
            state=TargetState.FAILED, state_message=f"The scaler hook could not start it: {status}"
        )


# --- nodes -----------------------------------------------------------------------------------


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
