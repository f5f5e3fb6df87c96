"""Every worker dead: the reaper, a process of its own that needs no worker, fails the Running
job with "node lost" within twice the threshold, and keeps its log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings

from jobs import services
from jobs.models import Job, JobStatus
from studio import logs
from tests.jobs.conftest import make_zip, wait_for, wait_status
from tests.jobs.test_node_lost import COUNTER, ROOT, database_url, start_worker

LOST_AFTER = 4


def start_reaper() -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "STUDIO_DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": database_url(),
        "STUDIO_JOB_LOST_AFTER_SECONDS": str(LOST_AFTER),
    }
    return subprocess.Popen([sys.executable, "manage.py", "studio_reaper"], cwd=ROOT, env=env)


def test_with_every_worker_dead_the_reaper_process_fails_the_running_job(
    transactional_db, no_dispatch, workspace, owner, plain_env
):
    snapshot = services.do_create_code_snapshot(workspace, actor=owner, zip_file=make_zip({"count.py": COUNTER}))
    job = services.do_submit_job(
        workspace, actor=owner, data={"command": "python count.py", "environment": "plain:1"}, code=snapshot
    )
    worker = start_worker(job.pk)
    reaper = start_reaper()
    try:
        wait_status(job, JobStatus.RUNNING, timeout=90)
        stream = job.log_stream("user_logs/std_log.txt")
        wait_for(lambda: "tick 5" in logs.read_all(stream), timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed_at = time.monotonic()
        kept = logs.read_all(stream)
        # No worker is left: only the reaper process can end the job.
        wait_status(job, JobStatus.FAILED, timeout=2 * LOST_AFTER)
        took = time.monotonic() - killed_at
    finally:
        for process in (worker, reaper):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
    assert reaper.returncode == 0, "the reaper stops cleanly on SIGTERM"
    job = Job.objects.get(pk=job.pk)
    assert job.failure_kind == "node_lost" and "Node lost" in job.failure_reason
    assert took < 2 * LOST_AFTER
    assert "tick 5" in kept and logs.read_all(stream).startswith(kept[: len(kept) - 200])


def test_the_reaper_once_reports_what_it_did(transactional_db, workspace):
    out = subprocess.run(
        [sys.executable, "manage.py", "studio_reaper", "--once"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "STUDIO_DATA_DIR": str(settings.DATA_DIR),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "'jobs': 0" in out.stdout
