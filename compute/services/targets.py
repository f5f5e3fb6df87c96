"""State changes of compute targets: one function each, called by pages, the API and the CLI
alike (create, update, delete, start, stop, request a node or a drain, send a probe, record the
scaler hook's answer), and the checks the jobs app makes before and at a job's claim:
- `check_can_accept(target, user)` before submitting a job to a target (raises ValidationError);
- `refusal_to_run(target, user)` when a node claims it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from compute import demand, engines, tasks
from compute.models import (
    LOCAL_NAME,
    Backend,
    ComputeTarget,
    ComputeType,
    DispatchProbe,
    Node,
    TargetState,
)
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
        raise Conflict(
            {
                "detail": [
                    f"{name} is still used by jobs or online deployments (move those to another compute first) "
                    "and cannot be deleted."
                ]
            }
        )
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
    check_assignee(target, user, work="jobs", hint="Pick another compute target.")
    if target.type == ComputeType.INSTANCE:
        if target.state in (TargetState.STOPPED, TargetState.STOPPING):
            _refuse(f"Instance {target.name} is stopped: start it first.")
    if target.state == TargetState.FAILED:
        reason = f": {target.state_message}" if target.state_message else ""
        _refuse(f"{kind} {target.name} failed{reason}. Start it again or pick another compute target.")


def check_assignee(target: ComputeTarget, user: Actor, *, work: str, hint: str) -> None:
    """Raise a ValidationError (on "compute") when `target` is a compute instance not assigned to
    `user`: only its assignee's `work` (jobs, deployments) runs there."""
    if target.type != ComputeType.INSTANCE:
        return
    if target.assigned_to_id is None:
        _refuse(f"Instance {target.name} has no assigned user, so it runs nobody's {work}. Assign it first.")
    if target.assigned_to_id != user.pk:
        owner = target.assigned_to.get_username() if target.assigned_to else "someone else"
        _refuse(f"Instance {target.name} is assigned to {owner}: only their {work} run on it. {hint}")


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
