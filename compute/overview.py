"""The figures a compute row shows (nodes busy/idle/total, queued and running jobs, desired
nodes), counted for a whole page of targets in two queries."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q

from compute import demand
from compute.models import ComputeTarget, Node, NodeState, TargetState
from compute.scaling import Plan, plan_for


class Overview:
    """Nodes (responsive ones) and demand of one target, plus the autoscaler's plan."""

    def __init__(self, nodes: int, busy: int, paused: int, draining: int, plan: Plan):
        self.nodes = nodes
        self.busy = busy
        self.paused = paused
        self.draining = draining
        self.plan = plan

    @property
    def idle(self) -> int:
        return max(0, self.nodes - self.busy - self.paused - self.draining)

    @property
    def queued(self) -> int:
        return self.plan.queued

    @property
    def running(self) -> int:
        return self.plan.running


def shown_state(target: ComputeTarget, overview: Overview) -> tuple[str, str]:
    """(badge, words) for a target's state that say what is true: a cluster or a started instance
    is only "Running" while its nodes are up ("0 of 2 nodes up" is not Running)."""
    if not target.scales or target.state != TargetState.RUNNING:
        return target.state, ""
    up, wanted = overview.nodes, overview.plan.desired
    words = f"{up} of {wanted} node{'s' if wanted != 1 else ''} up"
    if up == 0 and wanted == 0:
        return "Idle", "0 nodes up, no job waiting"
    if up < wanted:
        return "Starting", words
    return TargetState.RUNNING, words


def attach(targets: Iterable[ComputeTarget]) -> list[ComputeTarget]:
    """Set `target.overview` on each target; returns them as a list."""
    targets = list(targets)
    if not targets:
        return targets
    rows = (
        Node.objects.responsive()
        .filter(queue__in={t.queue_name for t in targets})
        .values("queue")
        .annotate(
            total=Count("pk"),
            busy=Count("pk", filter=Q(running__gt=0)),
            paused=Count("pk", filter=Q(state=NodeState.PAUSED, running=0)),
            draining=Count("pk", filter=Q(state=NodeState.DRAINING, running=0)),
        )
    )
    by_queue = {r["queue"]: r for r in rows}
    counts = demand.counts_for(targets)
    for target in targets:
        row = by_queue.get(target.queue_name, {"total": 0, "busy": 0, "paused": 0, "draining": 0})
        plan = plan_for(target, counts[target.pk], live=row["total"], busy=row["busy"])
        target.overview = Overview(row["total"], row["busy"], row["paused"], row["draining"], plan)
        target.shown_state, target.nodes_up = shown_state(target, target.overview)
    return targets
