"""Models: registration copy speed (a 200 MB model folder from a job's outputs into the artifact
store), zip download speed through the REST API (streamed), and the server time and SQL queries of
the models list page and API with 300 models x 5 versions (the query count must not grow with them).

    .venv/bin/python bench/models.py            # SQLite and local folders in a temporary folder
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_django import setup_django  # a sibling of this script

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

MODEL_MB = 200
MODELS = 300
VERSIONS = 5


def timed(fn, repeat: int = 7) -> tuple[float, float, int]:
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(ctx.captured_queries)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1 if len(times) > 1 else 0], queries


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from jobs import artifacts
    from jobs import services as job_services
    from jobs.models import JobStatus
    from jobs.runner.lifecycle import advance
    from registry import services
    from registry.models import Model, ModelVersion
    from studio import services as studio_services

    user = get_user_model().objects.create_user("bench", password="x")
    workspace = studio_services.do_create_workspace(name="bench", actor=user)
    from environments import services as env_services
    from environments import spec

    env_services.do_create_environment_version(
        workspace, actor=user, definition=spec.parse({"name": "plain", "image": "python:3.11-slim"})
    )
    job = job_services.do_submit_job(workspace, actor=user, data={"command": "true", "environment": "plain:1"})
    for a, b in ((JobStatus.QUEUED, JobStatus.PREPARING), (JobStatus.PREPARING, JobStatus.RUNNING)):
        advance(job.pk, a, b, node="bench")
    outputs = Path(tempfile.mkdtemp(prefix="bench-out-")) / "model"
    outputs.mkdir()
    chunk = os.urandom(1024 * 1024)
    for i in range(4):
        with open(outputs / f"weights-{i}.bin", "wb") as fh:
            for _ in range(MODEL_MB // 4):
                fh.write(chunk)
    artifacts.store_outputs(job, outputs.parent)

    start = time.perf_counter()
    big = services.do_create_model_version(workspace, actor=user, name="big", path=f"runs:/{job.name}/outputs/model")
    seconds = time.perf_counter() - start
    print(f"register {MODEL_MB} MB from a job's outputs: {seconds:.2f} s ({MODEL_MB / seconds:.0f} MB/s)")

    client = Client()
    client.force_login(user)
    start = time.perf_counter()
    response = client.get(f"/api/v1/workspaces/bench/models/big/versions/{big.version}/download/")
    size = sum(len(part) for part in response.streaming_content)
    seconds = time.perf_counter() - start
    print(
        f"download as one zip (streamed): {size / 2**20:.0f} MB in {seconds:.2f} s ({size / 2**20 / seconds:.0f} MB/s)"
    )

    models = Model.objects.bulk_create([Model(workspace=workspace, name=f"model-{i:03d}") for i in range(MODELS)])
    ModelVersion.objects.bulk_create(
        [
            ModelVersion(
                model=m,
                workspace=workspace,
                version=str(v),
                datastore=big.datastore,
                storage_path=big.storage_path,
                tags={"team": "a" if v % 2 else "b"},
            )
            for m in models
            for v in range(1, VERSIONS + 1)
        ]
    )
    for label, url in (
        ("models page", "/w/bench/models/"),
        ("models API (first page)", "/api/v1/workspaces/bench/models/"),
        ("model page", "/w/bench/models/model-007/"),
        ("versions API", "/api/v1/workspaces/bench/models/model-007/versions/"),
    ):
        median, p95, queries = timed(lambda url=url: client.get(url))
        print(
            f"{label} ({MODELS} models x {VERSIONS} versions): "
            f"median {median:.0f} ms, p95 {p95:.0f} ms, {queries} queries"
        )


if __name__ == "__main__":
    main()
