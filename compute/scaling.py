"""Autoscale, honestly: Studio cannot buy machines, but it can say how many nodes each cluster and
instance should have, and run a command the operator configured (STUDIO_SCALER_COMMAND) with that
number whenever it changes.

The hook is run as ``<STUDIO_SCALER_COMMAND> <desired node count>`` with these environment
variables: STUDIO_COMPUTE_WORKSPACE, STUDIO_COMPUTE_NAME, STUDIO_COMPUTE_TYPE, STUDIO_COMPUTE_QUEUE
(the Celery queue its nodes must consume), STUDIO_COMPUTE_ADDRESS (what `studio_worker --compute`
takes) and STUDIO_CURRENT_NODES. It may start or stop machines, containers or systemd units that
run `python manage.py studio_worker --compute $STUDIO_COMPUTE_ADDRESS`.

Desired nodes: a cluster wants one node per unfinished job (queued + running; one job per node,
as on Azure), at least min_instances and at most max_instances, and lowers that number only after
demand stayed lower for idle_time_before_scale_down seconds. An instance wants 1 node while it is
Starting or Running, else 0.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from compute import demand, services
from compute.models import ComputeTarget, ComputeType, TargetState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What a target needs now, for the autoscaler and the compute page alike."""

    queued: int
    running: int
    wanted: int  # job slots the demand asks for, before min/max
    desired: int  # nodes, within min/max
    live_nodes: int
    busy_nodes: int

    @property
    def capped(self) -> bool:
        return self.wanted > self.desired


def plan_for(
    target: ComputeTarget, counts: demand.JobCounts | None = None, live: int | None = None, busy: int | None = None
) -> Plan:
    """Demand, nodes and the desired node count of one target. Pass what you already counted."""
    counts = counts or demand.counts(target)
    if live is None or busy is None:
        nodes = list(target.nodes().responsive().only("running"))
        live, busy = len(nodes), sum(1 for n in nodes if n.running > 0)
    if target.type == ComputeType.CLUSTER:
        wanted = counts.queued + counts.running
        desired = min(max(wanted, target.min_instances), target.max_instances)
    elif target.type == ComputeType.INSTANCE:
        wanted = desired = 1 if target.state in (TargetState.STARTING, TargetState.RUNNING) else 0
    else:
        wanted = desired = live
    return Plan(counts.queued, counts.running, wanted, desired, live, busy)


def autoscale(now=None) -> list[tuple[ComputeTarget, int]]:
    """One round of the autoscaler (compute.tasks.autoscale, every 15 s): store each cluster's and
    instance's desired node count and call the hook for those that changed. Returns the changes."""
    now = now or timezone.now()
    targets = list(
        ComputeTarget.objects.filter(type__in=(ComputeType.CLUSTER, ComputeType.INSTANCE)).select_related("workspace")
    )
    all_counts = demand.counts_for(targets)
    changes = []
    for target in targets:
        plan = plan_for(target, all_counts[target.pk])
        desired = plan.desired
        if desired < target.desired_nodes and target.type == ComputeType.CLUSTER:
            # Scale down only after demand stayed low for idle_time_before_scale_down.
            since = target.demand_low_since or now
            if target.demand_low_since is None:
                ComputeTarget.objects.filter(pk=target.pk).update(demand_low_since=now)
            if now - since < timedelta(seconds=target.idle_time_before_scale_down):
                continue
        elif target.demand_low_since is not None and desired >= target.desired_nodes:
            ComputeTarget.objects.filter(pk=target.pk).update(demand_low_since=None)
        if desired == target.desired_nodes:
            continue
        updated = ComputeTarget.objects.filter(pk=target.pk, desired_nodes=target.desired_nodes).update(
            desired_nodes=desired, demand_low_since=None
        )
        if not updated:
            continue  # another round changed it meanwhile
        previous, target.desired_nodes = target.desired_nodes, desired
        changes.append((target, desired))
        if settings.STUDIO_SCALER_COMMAND:
            ok, status = call_scaler(target, desired, plan.live_nodes)
            services.do_record_scaler_call(target, previous=previous, desired=desired, ok=ok, status=status)
    return changes


def call_scaler(target: ComputeTarget, desired: int, current: int) -> tuple[bool, str]:
    """Run the operator's hook; returns (succeeded, a one-line status for the page)."""
    command = shlex.split(settings.STUDIO_SCALER_COMMAND) + [str(desired)]
    env = os.environ | {
        "STUDIO_COMPUTE_WORKSPACE": target.workspace.name,
        "STUDIO_COMPUTE_NAME": target.name,
        "STUDIO_COMPUTE_TYPE": target.type,
        "STUDIO_COMPUTE_QUEUE": target.queue_name,
        "STUDIO_COMPUTE_ADDRESS": target.address,
        "STUDIO_CURRENT_NODES": str(current),
    }
    shown = f"{shlex.join(command)}"
    try:
        done = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=settings.STUDIO_SCALER_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        logger.warning("scaler hook for %s timed out", target)
        return False, f"{shown}: no answer within {settings.STUDIO_SCALER_TIMEOUT_SECONDS} s"[:500]
    except OSError as exc:
        logger.warning("scaler hook for %s could not run: %s", target, exc)
        return False, f"{shown}: could not run ({exc.strerror or exc})"[:500]
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        logger.warning("scaler hook for %s exited %s", target, done.returncode)
        return False, f"{shown}: exit {done.returncode} {tail[0]}".strip()[:500]
    return True, f"{shown}: exit 0"[:500]
