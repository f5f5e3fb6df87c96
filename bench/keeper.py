"""A node's keeper round (`endpoints.node_keeper.Keeper.round`, every second in every node's worker):
its cost when the install holds 200 deployments on other compute targets and 2 on the node's own.

Two ways, in alternating rounds so both see the same machine:

- before: placement as it was, every deployment of the install read (with its compute target and
  workspace) and filtered by queue in Python;
- after: `placement.place_all(queues)`, only the deployments on the node's queues selected in SQL.

The node's own deployments are placed on a Ready peer of the same target (its own node is paused),
so the round runs placement and an empty reconcile: no scoring server is started.

    .venv/bin/python bench/keeper.py          # SQLite in a temporary folder
    DATABASE_URL=postgres://.../empty_db .venv/bin/python bench/keeper.py
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter

from bench_django import setup_django  # a sibling of this script

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from compute import services as compute_services  # noqa: E402
from compute.models import Node, NodeState  # noqa: E402
from endpoints import instances, placement, services  # noqa: E402
from endpoints.models import OnlineDeployment  # noqa: E402
from endpoints.node_keeper import Keeper  # noqa: E402
from environments import services as env_services  # noqa: E402
from environments import spec  # noqa: E402
from jobs.code import snapshot_from_zip  # noqa: E402
from registry import services as registry  # noqa: E402
from studio.services import do_create_workspace  # noqa: E402
from tests.jobs.conftest import make_zip  # noqa: E402

FOREIGN = int(os.environ.get("BENCH_FOREIGN", "200"))
OTHER_TARGETS = 10
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "60"))
REPORT = {"cpu_cores": 2, "memory_mb": 4096, "gpus": 0}


def place_all_before(queues: set[str]) -> dict[str, int]:
    """`placement.place_all` before the queue filter moved into SQL (kept here to compare)."""
    counts: Counter[str] = Counter()
    for deployment in OnlineDeployment.objects.select_related("compute__workspace"):
        if placement.queue_of(deployment) in queues:
            counts.update(placement.place(deployment.pk))
    return dict(counts)


def round_before(keeper: Keeper) -> None:
    place_all_before(keeper.queues)
    instances.reconcile(keeper.node_ids)


def setup() -> Keeper:
    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench", password="bench-password-1")
    workspace = do_create_workspace(name="ws-bench", actor=owner)
    env_services.do_create_environment_version(
        workspace, actor=owner, definition=spec.parse({"name": "plain", "image": settings.STUDIO_BASE_IMAGE})
    )
    sink = registry.upload_sink_for(workspace)
    sink.open("model.pkl").write(b"not used")
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="model")
    code = snapshot_from_zip(workspace, make_zip({"score.py": "def init(): pass\ndef run(d): return d\n"}), actor=owner)
    light = {
        "model": "azureml:model:1",
        "environment": "azureml:plain:1",
        "code_configuration": {"code": code.pk, "scoring_script": "score.py"},
    }

    def register(target, worker: str) -> Node:
        return compute_services.do_register_node(
            queue=target.queue_name, worker_name=worker, hostname="host", pid=1, capacity=1, report=REPORT
        )

    own = compute_services.do_create_compute(
        workspace, data={"type": "cluster", "name": "own", "max_instances": 2}, actor=owner
    )
    mine, _peer = register(own, "mine@host"), register(own, "peer@host")
    Node.objects.filter(pk=mine.pk).update(state=NodeState.PAUSED)
    endpoint = services.do_create_endpoint(workspace, {"name": "bench-ep"}, actor=owner)
    for name in ("own-a", "own-b"):
        services.do_create_deployment(endpoint, {"name": name, **light, "compute": "own"}, actor=owner)
    for t in range(OTHER_TARGETS):
        target = compute_services.do_create_compute(
            workspace, data={"type": "cluster", "name": f"other-{t}", "max_instances": 1}, actor=owner
        )
        register(target, f"other-{t}@host")
    template = OnlineDeployment.objects.get(name="own-a")
    others = list(workspace.computes.filter(name__startswith="other-"))
    rows = []
    for i in range(FOREIGN):
        template.pk, template.name, template.compute = None, f"d-{i:03}", others[i % len(others)]
        rows.append(
            OnlineDeployment(**{f.attname: getattr(template, f.attname) for f in template._meta.concrete_fields})
        )
    OnlineDeployment.objects.bulk_create(rows)
    placement.place_all()  # the periodic task: every deployment placed, as in a steady install
    return Keeper({own.queue_name: mine.pk})


def timed(fn) -> tuple[float, int]:
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - start) * 1000
    return elapsed, len(ctx.captured_queries)


def main() -> None:
    keeper = setup()
    engine = connection.vendor
    times: dict[str, list[float]] = {"before": [], "after": []}
    queries: dict[str, int] = {}
    for _ in range(3):  # warm caches and connections
        round_before(keeper)
        keeper.round()
    for _ in range(ROUNDS):
        for label, fn in (("before", lambda: round_before(keeper)), ("after", keeper.round)):
            ms, n = timed(fn)
            times[label].append(ms)
            queries[label] = n
    total = OnlineDeployment.objects.count()
    print(f"keeper round, {engine}: {total} deployments, 2 on the node's target, {ROUNDS} rounds each")
    for label in ("before", "after"):
        ms = sorted(times[label])
        p95 = ms[int(len(ms) * 0.95) - 1]
        print(f"  {label:6}  median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   {queries[label]} queries")


if __name__ == "__main__":
    main()
