"""Why a queued job waits, in words ("waiting for a free node on cpu-cluster (3 queued, max 2)")."""

from __future__ import annotations

from django.db.models import Sum


def queue_wait_reason(job) -> str:
    target = job.compute
    if target is None:
        return "waiting for a node to pick it up"
    from compute import demand
    from compute.models import ComputeType

    counts = demand.counts(target)
    nodes = target.nodes().responsive()
    slots = nodes.aggregate(n=Sum("capacity"))["n"] or 0
    if target.type in (ComputeType.CLUSTER, ComputeType.INSTANCE):
        limit = target.max_instances if target.type == ComputeType.CLUSTER else 1
        if slots == 0:
            from compute import local_scaler

            how = (
                "the local scaler is starting one"
                if local_scaler.enabled()
                else f"start one: studio_worker --compute {target.address}"
            )
            return f"waiting for a node on {target.name}: none is up yet, {how} ({counts.queued} queued, max {limit})"
        slots = min(slots, limit) if limit else slots
    elif slots == 0:
        start = f"studio_worker --compute {target.address}"
        return f"waiting for a node: no worker serves {target.name} right now (start one: {start})"
    if counts.running >= slots:
        return f"waiting for a free node on {target.name} ({counts.queued} queued, max {slots})"
    return f"waiting for {target.name} to pick it up ({counts.queued} queued)"
