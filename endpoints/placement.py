"""Which node runs which deployment instance.

`place(deployment)` keeps `instance_count` instance rows of the deployment's current generation,
each assigned to a node of its compute target (the shared `local` target when it names none):

- a row on a node that is no longer responsive (stopped, or silent for longer than
  STUDIO_NODE_UNREACHABLE_SECONDS: the reaper's rule, `NodeQuerySet.responsive`) is moved to a
  Ready node and started there; an older generation's row there is dropped (its process went with
  the node);
- missing rows are created and extra ones stopped; new and moved rows go to the Ready node with
  the fewest instances of this deployment, then the fewest in all (spread);
- once every current row is ready, older generations drain (no new requests) and are stopped
  after the routers' caches forgot them: an update drops no request.

The node's own worker starts, restarts and stops the rows assigned to it (`instances.reconcile`).
Placement runs in the periodic task, right after a deployment changes, and in every node's keeper
loop for the deployments of its targets; a row lock per deployment keeps those from racing.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from compute.models import LOCAL_QUEUE, Node, NodeState
from compute.querysets import queue_filter
from endpoints import routes
from endpoints.models import DeploymentInstance, InstanceStatus, OnlineDeployment


def queue_of(deployment: OnlineDeployment) -> str:
    return deployment.compute.queue_name if deployment.compute_id else LOCAL_QUEUE


def drain_seconds() -> float:
    """How long a replaced instance keeps running without new requests: until every router
    process has reloaded its cached route (an idle one may hold it STALE_FACTOR cache times)."""
    return routes.ttl() * routes.STALE_FACTOR + 1.0


def place_all(queues: set[str] | None = None) -> dict[str, int]:
    """Place every deployment's instances (only those on `queues` when given: a node's keeper
    runs this every round, so the other targets' deployments are not even read)."""
    counts: Counter[str] = Counter()
    deployments = OnlineDeployment.objects.all()
    if queues is not None:
        deployments = deployments.filter(on_queues(queues))
    for deployment_id in deployments.values_list("pk", flat=True):
        counts.update(place(deployment_id))
    return dict(counts)


def on_queues(queues: set[str]) -> Q:
    """The deployments whose `queue_of` is one of `queues`, as a filter (a deployment with no
    compute runs on the local queue)."""
    where = queue_filter(queues, via="compute__")
    if LOCAL_QUEUE in queues:
        where |= Q(compute=None)
    return where


@transaction.atomic
def place(deployment_id: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    deployment = (
        OnlineDeployment.objects.select_for_update(of=("self",))
        .select_related("compute__workspace")
        .filter(pk=deployment_id)
        .first()
    )
    if deployment is None:
        return {}
    nodes = Node.objects.filter(queue=queue_of(deployment)).responsive()
    alive = {node.pk: node for node in nodes}
    ready_nodes = [node for node in alive.values() if node.state == NodeState.READY]
    rows = list(deployment.instances.select_related("node").order_by("pk"))
    current, unplaced = [], []
    for row in rows:
        if row.node_id in alive:
            if row.generation == deployment.generation and row.status not in (
                InstanceStatus.DRAINING,
                InstanceStatus.STOPPED,
            ):
                current.append(row)
        elif row.generation == deployment.generation and row.status != InstanceStatus.STOPPED:
            unplaced.append(row)
        else:
            row.delete()  # an older generation, or a stopped row, whose node is gone: nothing to stop
            counts["dropped"] += 1
    load = Counter(
        DeploymentInstance.objects.filter(node_id__in=alive)
        .exclude(status=InstanceStatus.STOPPED)
        .values_list("node_id", flat=True)
    )
    mine = Counter(row.node_id for row in current)

    def least_busy() -> Node | None:
        if not ready_nodes:
            return None
        return min(ready_nodes, key=lambda n: (mine[n.pk], load[n.pk], n.pk))

    # Too many (instance_count lowered): stop those on the busiest nodes.
    while len(current) + len(unplaced) > deployment.instance_count:
        if unplaced:
            unplaced.pop().delete()
        else:
            extra = max(current, key=lambda r: (mine[r.node_id], load[r.node_id], r.pk))
            current.remove(extra)
            mine[extra.node_id] -= 1
            DeploymentInstance.objects.filter(pk=extra.pk).update(status=InstanceStatus.STOPPED)
        counts["stopped"] += 1
    for row in unplaced:
        node = least_busy()
        if node is None:
            _wait_for_a_node(row, deployment)
            continue
        lost = f"Moved from {row.node.worker_name}: it stopped heart-beating." if row.node_id else ""
        DeploymentInstance.objects.filter(pk=row.pk).update(
            node=node, host="", port=None, pid=None, secret_encrypted="", restarts=0,
            status=InstanceStatus.STARTING, detail=lost, started_at=timezone.now(),
        )  # fmt: skip
        mine[node.pk] += 1
        load[node.pk] += 1
        counts["moved" if row.node_id else "placed"] += 1
    for _ in range(deployment.instance_count - len(current) - len(unplaced)):
        node = least_busy()
        if node is None:
            _wait_for_a_node(
                DeploymentInstance.objects.create(deployment=deployment, generation=deployment.generation),
                deployment,
            )
            continue
        DeploymentInstance.objects.create(deployment=deployment, generation=deployment.generation, node=node)
        mine[node.pk] += 1
        load[node.pk] += 1
        counts["placed"] += 1
    _drain_old_generations(deployment, counts)
    return dict(counts)


def _wait_for_a_node(row: DeploymentInstance, deployment: OnlineDeployment) -> None:
    where = deployment.compute.name if deployment.compute_id else "local"
    why = f"No Ready node of the compute target {where} to run it: start one (Compute page)."
    # Written once, not at every round while it waits.
    DeploymentInstance.objects.filter(pk=row.pk).exclude(node=None, detail=why).update(
        node=None, status=InstanceStatus.STARTING, detail=why
    )


@transaction.atomic
def drain_replaced(deployment_id: int) -> int:
    """Called by a node as soon as one of its instances is ready: if that completes the current
    generation, the older one drains now rather than at the next placement round (the router
    would otherwise keep mixing old and new answers meanwhile). Returns how many drain."""
    deployment = OnlineDeployment.objects.select_for_update(of=("self",)).filter(pk=deployment_id).first()
    counts: Counter[str] = Counter()
    if deployment is not None:
        _drain_old_generations(deployment, counts)
    return counts["draining"]


def _drain_old_generations(deployment: OnlineDeployment, counts: Counter[str]) -> None:
    """Older generations keep serving until all of the current one is ready, then drain."""
    instances = deployment.instances.exclude(status__in=(InstanceStatus.DRAINING, InstanceStatus.STOPPED))
    old = instances.exclude(generation=deployment.generation)
    if not old.exists():
        return
    ready_now = instances.filter(generation=deployment.generation, status=InstanceStatus.READY).count()
    if ready_now >= deployment.instance_count:
        stop_at = timezone.now() + timedelta(seconds=drain_seconds())
        counts["draining"] += old.update(status=InstanceStatus.DRAINING, stop_at=stop_at)
