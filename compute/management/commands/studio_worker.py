"""`python manage.py studio_worker --compute <workspace>/<name>` (or `--compute local`): run a node.

It starts a Celery worker of the studio app consuming the target's queue only. The node agent
(compute.node) registers it, heart-beats, pauses it while its instance is stopped, and drains it on
SIGTERM or the page's "Drain" button; when the worker exits the node is marked Stopped.

The same node with plain Celery:  celery -A studio worker -Q compute.<ws>.<name> -c 1 -n <unique>@%h
"""

from __future__ import annotations

import os
import socket

from django.core.management.base import BaseCommand, CommandError

from compute.models import LOCAL_NAME, LOCAL_QUEUE, ComputeTarget, ComputeType
from compute.node import current_agent, is_compute_queue
from compute.services import NodeRefused, check_room
from studio.celery import app


class Command(BaseCommand):
    help = "Run a node: a Celery worker serving one compute target's queue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--compute", required=True, help="<workspace>/<name> of a compute target, or 'local' for the local queue"
        )
        parser.add_argument(
            "-c",
            "--concurrency",
            type=int,
            default=None,
            help="jobs at once (default: 1 for clusters and instances, as Azure runs one job per node; 2 otherwise)",
        )
        parser.add_argument("-P", "--pool", default="prefork", choices=["prefork", "threads", "solo"])
        parser.add_argument("-l", "--loglevel", default="INFO")
        parser.add_argument("-n", "--hostname", default=None, help="Celery node name (default: unique per process)")
        parser.add_argument(
            "--extra-queue",
            action="append",
            default=[],
            metavar="QUEUE",
            help="also consume this plain queue, e.g. 'studio' (builds and periodic tasks) on a single machine",
        )

    def handle(
        self, *args, compute: str, concurrency: int | None, pool: str, loglevel: str, hostname, extra_queue, **options
    ):
        target = self._target(compute)
        queue = target.queue_name if target is not None else LOCAL_QUEUE
        if concurrency is None:
            concurrency = 1 if target is not None and target.type in (ComputeType.CLUSTER, ComputeType.INSTANCE) else 2
        if concurrency < 1:
            raise CommandError("--concurrency must be at least 1.")
        try:
            check_room(target, concurrency)
        except NodeRefused as exc:
            raise CommandError(str(exc)) from None
        label = LOCAL_NAME if target is None else f"{target.workspace.name}.{target.name}"
        hostname = hostname or f"{label}.{os.getpid()}@{socket.gethostname()}"

        extra = [q for q in dict.fromkeys(extra_queue) if q != queue]
        if any(is_compute_queue(q) for q in extra):
            raise CommandError("--extra-queue is for plain queues; run one studio_worker per compute target.")
        self.stdout.write(
            f"Serving {', '.join([queue, *extra])} as {hostname} (concurrency {concurrency}, pool {pool})."
        )
        worker = app.Worker(
            hostname=hostname,
            queues=[queue, *extra],
            concurrency=concurrency,
            pool_cls=pool,
            loglevel=loglevel,
            without_gossip=True,
            without_mingle=True,
            optimization="fair",
        )
        try:
            worker.start()
        finally:
            agent = current_agent()
            if agent is not None:
                agent.stop()
        if worker.exitcode:
            raise SystemExit(worker.exitcode)

    def _target(self, address: str) -> ComputeTarget | None:
        if address.strip().lower() == LOCAL_NAME:
            return None
        workspace, _, name = address.strip().partition("/")
        if not workspace or not name:
            raise CommandError("--compute takes <workspace>/<name> (e.g. default/cpu-cluster) or 'local'.")
        target = ComputeTarget.objects.select_related("workspace").filter(workspace__name=workspace, name=name).first()
        if target is None:
            raise CommandError(f"There is no compute target {workspace}/{name}. Create it on the Compute page first.")
        if target.type == ComputeType.LOCAL:
            return None
        return target
