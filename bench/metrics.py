"""What a live Metrics tab costs with 100,000 points of one metric: bytes and server time of the
first (downsampled) load, of one poll with the cursor after 100 new points, and of the exact
REST history for comparison; plus how many points the chart draws.

    .venv/bin/python bench/metrics.py            # SQLite in a temporary folder
    DATABASE_URL=postgres://... .venv/bin/python bench/metrics.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench_django import setup_django  # a sibling of this script

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

POINTS = 100_000


def timed(client: Client, url: str, runs: int = 5) -> tuple[float, int, dict | None]:
    times, body = [], b""
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        body = response.content
        times.append((time.perf_counter() - started) * 1000)
    data = response.json() if response["Content-Type"].startswith("application/json") else None
    return statistics.median(times), len(body), data


def main() -> None:
    from django.conf import settings

    from jobs.models import Experiment, Job, JobStatus, Metric
    from studio.services import do_create_workspace

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    setup_test_environment()
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="x")
    workspace = do_create_workspace(actor=user, name="bench")
    experiment = Experiment.objects.create(workspace=workspace, name="bench")
    job = Job.objects.create(
        workspace=workspace,
        name="long_run",
        experiment=experiment,
        created_by=user,
        status=JobStatus.RUNNING,
        command="python train.py",
        environment_ref="Studio-minimal@latest",
        compute_name="local",
    )
    rows = [
        Metric(job=job, key="loss", value=1 / (i + 1), step=i, timestamp=1_700_000_000_000 + i) for i in range(POINTS)
    ]
    Metric.objects.bulk_create(rows, batch_size=5000)
    client = Client()
    client.force_login(user)
    series = f"/w/bench/jobs/{job.name}/metrics/series/"
    first_ms, first_bytes, first = timed(client, series)
    Metric.objects.bulk_create(
        [
            Metric(job=job, key="loss", value=0.0, step=POINTS + i, timestamp=1_700_000_000_000 + POINTS + i)
            for i in range(100)
        ]
    )
    poll_ms, poll_bytes, _ = timed(client, f"{series}?after={first['cursor']}")
    rest_ms, rest_bytes, _ = timed(client, f"/api/v1/workspaces/bench/jobs/{job.name}/metrics/", runs=2)
    drawn = len(first["series"]["loss"]["points"])
    print(f"{POINTS:,} points of one metric; the chart draws {drawn:,}")
    print(f"{'request':<40}{'median ms':>10}{'bytes':>12}")
    print(f"{'first load (downsampled, LTTB)':<40}{first_ms:>10.1f}{first_bytes:>12,}")
    print(f"{'poll with cursor (100 new points)':<40}{poll_ms:>10.1f}{poll_bytes:>12,}")
    print(f"{'REST history (every exact value)':<40}{rest_ms:>10.1f}{rest_bytes:>12,}")


if __name__ == "__main__":
    main()
