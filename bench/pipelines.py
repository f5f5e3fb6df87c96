"""Pipeline figures, on the real runner (sandboxed processes), in one run:

    .venv/bin/python bench/pipelines.py [--steps 20]

It makes a throw-away data folder (its own SQLite database unless DATABASE_URL is set), a
workspace with a bare environment, and runs jobs in this process the way a node does (the real
runner in a thread per job; only the Celery hop is left out, for both sides alike). It prints:

  1. orchestration overhead: a --steps chain of trivial steps (each reads the previous step's
     output folder and writes its own) as one pipeline, against the same jobs submitted back to
     back by hand (each submitted when the one before completed, its output URI as the input).
     Target: pipeline / by hand <= 1.2.
  2. reuse decision time: the same pipeline submitted again, every step reused; the whole
     submission and the time per step. Target: under 1 s for 20 steps.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="studio-bench-pipelines-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "STUDIO_DATA_DIR": str(DATA),
        "STUDIO_SECRET_KEY": "bench-pipelines-secret-key-not-for-production-0123456789",
        "STUDIO_SECURE_SSL": "false",
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.setdefault("STUDIO_BASE_IMAGE", "studio/base:bookworm")

STEP = "cat ${{inputs.prev}}/n.txt > /dev/null 2>&1; echo $STEP_NO > ${{outputs.out}}/n.txt"
FIRST = "echo 0 > ${{outputs.out}}/n.txt"


def chain(steps: int, salt: str) -> dict:
    jobs = {}
    for i in range(steps):
        step = {
            "type": "command",
            "environment": "azureml:plain:1",
            "command": FIRST if i == 0 else STEP,
            "environment_variables": {"STEP_NO": str(i), "SALT": salt},
            "outputs": {"out": {"type": "uri_folder"}},
        }
        if i:
            step["inputs"] = {"prev": f"${{{{parent.jobs.s{i - 1}.outputs.out}}}}"}
        jobs[f"s{i}"] = step
    return {"type": "pipeline", "experiment_name": "bench", "jobs": jobs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from environments import services as env_services
    from environments import spec as env_spec
    from jobs import services
    from jobs.models import FINAL_STATUSES, Job, JobStatus
    from jobs.runner import execute_job
    from studio.services import do_create_workspace

    threads: list[threading.Thread] = []

    def send(job_id: int, queue: str) -> None:
        def work():
            try:
                execute_job(job_id, node="bench@localhost")
            finally:
                connection.close()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)

    services.submit.send_run = send
    owner = get_user_model().objects.create_user("bench", password="bench-password-0123")
    ws = do_create_workspace(name="bench", actor=owner)
    env_services.do_create_environment_version(
        ws, actor=owner, definition=env_spec.parse({"name": "plain", "image": os.environ["STUDIO_BASE_IMAGE"]})
    )

    def wait(job_id: int, timeout: float = 600) -> Job:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = Job.objects.get(pk=job_id)
            if job.status in FINAL_STATUSES:
                return job
            time.sleep(0.02)
        raise SystemExit(f"job {job_id} did not finish")

    # Warm the environment build (not counted on either side).
    wait(services.do_submit_job(ws, actor=owner, data={"command": "true", "environment": "plain:1"}).pk)

    started = time.monotonic()
    previous = None
    for i in range(args.steps):
        data = {
            "command": (FIRST if i == 0 else STEP).replace("${{inputs.prev}}", "${{inputs.prev}}"),
            "environment": "plain:1",
            "experiment_name": "bench",
            "environment_variables": {"STEP_NO": str(i), "SALT": "hand"},
            "outputs": {"out": {"type": "uri_folder"}},
        }
        if previous is not None:
            data["inputs"] = {"prev": {"type": "uri_folder", "path": previous.outputs["out"]["uri"]}}
        job = wait(services.do_submit_job(ws, actor=owner, data=data).pk)
        if job.status != JobStatus.COMPLETED:
            raise SystemExit(f"by hand: step {i} {job.status}: {job.failure_reason}")
        previous = job
    by_hand = time.monotonic() - started

    from pipelines.services import pipelines as pipeline_services

    spent: list[float] = []
    plain_advance = pipeline_services.advance_pipeline

    profiler = None
    if os.environ.get("BENCH_PROFILE_ADVANCE"):
        import cProfile

        profiler = cProfile.Profile()

    def timed_advance(job_id: int) -> None:
        t0 = time.monotonic()
        if profiler is not None:
            profiler.runcall(plain_advance, job_id)
        else:
            plain_advance(job_id)
        spent.append(time.monotonic() - t0)

    pipeline_services.advance_pipeline = timed_advance
    started = time.monotonic()
    pipeline = wait(services.do_submit_job(ws, actor=owner, data=chain(args.steps, "pipe")).pk)
    as_pipeline = time.monotonic() - started
    if pipeline.status != JobStatus.COMPLETED:
        raise SystemExit(f"pipeline {pipeline.status}: {pipeline.failure_reason}")

    if profiler is not None:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats("pipelines/|jobs/|datastores/", 30)
    started = time.monotonic()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        again = profile.runcall(services.do_submit_job, ws, actor=owner, data=chain(args.steps, "pipe"))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    else:
        again = services.do_submit_job(ws, actor=owner, data=chain(args.steps, "pipe"))
    decide = time.monotonic() - started
    reused = again.pipeline.steps.filter(state="reused").count()
    for thread in threads:
        thread.join(5)

    ratio = as_pipeline / by_hand
    print(f"Pipelines ({args.steps}-step chain of trivial steps, venv backend, sandboxed)")
    print(f"  by hand, back to back : {by_hand:7.2f} s  ({by_hand / args.steps * 1000:.0f} ms per job)")
    print(f"  as one pipeline       : {as_pipeline:7.2f} s  ({as_pipeline / args.steps * 1000:.0f} ms per step)")
    each = sum(spent) / max(1, len(spent)) * 1000
    print(f"  advancing the pipeline: {sum(spent):7.2f} s over {len(spent)} step ends ({each:.0f} ms each)")
    print(f"  overhead ratio        : {ratio:7.2f}x  (target <= 1.2x) {'OK' if ratio <= 1.2 else 'OVER'}")
    print(
        f"  resubmit, {reused}/{args.steps} reused: {decide * 1000:7.0f} ms for the whole submission "
        f"({decide / args.steps * 1000:.1f} ms per step; target < 1 s) {'OK' if decide < 1 else 'OVER'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
