"""Dispatch latency: time from submitting a no-op task to a compute target until one of its nodes
starts it, over N submissions (default 200), on the real broker.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/dispatch.py [--n 200] [--pool prefork]

It makes a throw-away data folder (its own SQLite database unless DATABASE_URL is set), a
workspace with one cluster, and starts one real node for it (`manage.py studio_worker`). Then it
submits the compute app's probe task to the cluster's queue one at a time, the way the jobs app
submits runs (`apply_async(queue=target.queue_name)`): the task stamps the moment it starts, so
the figure is submit -> started on the node, without the time to poll for the answer. Ten warm-up
submissions are not counted. Target: median under 100 ms on Redis.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="studio-bench-dispatch-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "STUDIO_DATA_DIR": str(DATA),
        "STUDIO_SECRET_KEY": "bench-dispatch-secret-key-not-for-production-0123456789",
        "STUDIO_SECURE_SSL": "false",
        "STUDIO_NODE_HEARTBEAT_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="submissions to measure (default 200)")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for one task to start")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from compute import services
    from compute.models import DispatchProbe, NodeState
    from compute.tasks import probe
    from studio.celery import app
    from studio.services import do_create_workspace

    broker = settings.CELERY_BROKER_URL
    print(f"broker: {broker.split('@')[-1]}   database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    workspace = do_create_workspace(name=f"bench-{os.getpid()}", actor=user)
    target = services.do_create_compute(
        workspace, data={"name": "dispatch", "type": "amlcompute", "max_instances": 1}, actor=user
    )
    queue = target.queue_name
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)

    log = open(DATA / "worker.log", "w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "studio_worker",
            "--compute",
            target.address,
            "--pool",
            args.pool,
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not target.nodes().filter(state=NodeState.READY).exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                print((DATA / "worker.log").read_text()[-3000:])
                raise SystemExit("the node did not come up")
            time.sleep(0.1)
        node = target.nodes().get()
        print(f"node: {node.worker_name} (pool {args.pool}, concurrency {node.capacity})")

        def submit_and_wait() -> float:
            row = DispatchProbe.objects.create(target=target, created_by=user)
            sent = time.time()
            probe.apply_async(args=[row.pk, sent], queue=queue)
            give_up = time.monotonic() + args.timeout
            while True:
                latency = DispatchProbe.objects.filter(pk=row.pk).values_list("latency_ms", flat=True).first()
                if latency is not None:
                    return latency
                if time.monotonic() > give_up:
                    raise SystemExit(f"a task did not start within {args.timeout} s")
                time.sleep(0.002)

        for _ in range(10):
            submit_and_wait()
        latencies = [submit_and_wait() for _ in range(args.n)]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()

    print(f"\nsubmit -> started on the node, {len(latencies)} submissions one after another:")
    print(f"  median {statistics.median(latencies):7.1f} ms")
    print(f"  p95    {percentile(latencies, 95):7.1f} ms")
    print(f"  mean   {statistics.fmean(latencies):7.1f} ms")
    print(f"  min    {min(latencies):7.1f} ms   max {max(latencies):7.1f} ms")
    verdict = "meets" if statistics.median(latencies) < 100 else "misses"
    print(f"  target: median < 100 ms on Redis -> {verdict}")
    shutil.rmtree(DATA, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
