"""Demand on compute and why a queued job waits, in words ("waiting for a free node on
cpu-cluster (3 queued, max 2)")."""

from __future__ import annotations

from django.db.models import Count, Sum

from compute import demand
from compute.models import ComputeTarget, ComputeType
from jobs.models import Job, JobStatus


def count_unfinished(targets: list[ComputeTarget]) -> dict[int, demand.JobCounts]:
    """target pk -> queued and running jobs, for the targets that have any (compute's demand
    counter, registered in JobsConfig.ready()). A job its parent holds back (Not started: a
    sweep's next trial, until a trial slot frees) asks for no node yet."""
    tallies: dict[int, dict[str, int]] = {}
    rows = (
        Job.objects.unfinished()
        .exclude(status=JobStatus.NOT_STARTED)
        .filter(compute__in=[t.pk for t in targets])
        .values("compute_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        tally = tallies.setdefault(row["compute_id"], {"queued": 0, "running": 0})
        tally["queued" if row["status"] == JobStatus.QUEUED else "running"] += row["n"]
    return {pk: demand.JobCounts(**tally) for pk, tally in tallies.items()}


def queue_wait_reason(job) -> str:
    target = job.compute
    if target is None:
        return "waiting for a node to pick it up"
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
