"""A worker killed with SIGKILL mid-job: the job ends Failed "node lost", never left Running, and
its log up to the kill is kept. The worker is a real separate process running the real runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import override_settings

from jobs import services
from jobs.models import Job, JobStatus
from jobs.runner import staging
from studio import logs
from tests.jobs.conftest import make_zip, wait_for, wait_status

ROOT = Path(__file__).resolve().parents[2]
COUNTER = "import time\nfor i in range(1000):\n    print('tick', i, flush=True)\n    time.sleep(0.1)\n"


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(job_id: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "STUDIO_DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": database_url(),
        "STUDIO_JOB_HEARTBEAT_SECONDS": "1",
    }
    code = (
        "import django; django.setup()\n"
        "from jobs.runner import execute_job\n"
        f"execute_job({job_id}, node='doomed-worker@localhost')\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


def test_a_sigkilled_worker_leaves_a_failed_node_lost_job_with_its_logs(
    transactional_db, no_dispatch, workspace, owner, plain_env
):
    snapshot = services.do_create_code_snapshot(workspace, actor=owner, zip_file=make_zip({"count.py": COUNTER}))
    job = services.do_submit_job(
        workspace, actor=owner, data={"command": "python count.py", "environment": "plain:1"}, code=snapshot
    )
    worker = start_worker(job.pk)
    try:
        wait_status(job, JobStatus.RUNNING, timeout=60)
        stream = job.log_stream("user_logs/std_log.txt")
        wait_for(lambda: "tick 5" in logs.read_all(stream), timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    kept = logs.read_all(stream)
    assert "tick 5" in kept
    wait_for(lambda: not _job_processes(), timeout=5)  # the job's process group died with its worker
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING, "nobody has noticed yet"
    with override_settings(STUDIO_JOB_LOST_AFTER_SECONDS=2):
        wait_for(
            lambda: services.reap_stalled_jobs() or Job.objects.get(pk=job.pk).status != JobStatus.RUNNING,
            timeout=15,
            interval=0.5,
        )
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.failure_kind == "node_lost"
    assert "Node lost" in job.failure_reason and "doomed-worker" in job.failure_reason
    after = logs.read_all(stream)
    assert after.startswith(kept[: len(kept) - 200]), "the log up to the kill is kept"
    folder = staging.job_folder(job)
    assert folder.is_dir(), "the dead worker could not clean up"
    staging.sweep()
    assert not folder.exists(), "the next run on the node sweeps it"


def test_the_compute_reaper_losing_a_node_fails_its_jobs(transactional_db, no_dispatch, workspace, owner, plain_env):
    from jobs.runner.lifecycle import advance

    job = services.do_submit_job(workspace, actor=owner, data={"command": "sleep 1", "environment": "plain:1"})
    advance(job.pk, JobStatus.QUEUED, JobStatus.PREPARING, node="gone-node@host")
    advance(job.pk, JobStatus.PREPARING, JobStatus.RUNNING)
    assert services.do_fail_lost_jobs("gone-node@host") == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.failure_kind == "node_lost"


def test_a_job_that_allows_a_retry_is_requeued_once(transactional_db, no_dispatch, workspace, owner, plain_env):
    from jobs.runner.lifecycle import advance

    job = services.do_submit_job(
        workspace, actor=owner, data={"command": "sleep 1", "environment": "plain:1", "limits": {"max_retries": 1}}
    )
    for _ in range(2):
        assert advance(job.pk, JobStatus.QUEUED, JobStatus.PREPARING, node="flaky@host")
        services.do_fail_lost_jobs("flaky@host")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempt == 1
    assert len(no_dispatch) == 2, "enqueued at submission and once more for the retry"


def _job_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "count.py" in line]
