"""A full disk (a small real tmpfs) fails the job with "no space left", keeps its log, never
lists a cut-short file as an output, and leaves the node able to run the next job.

Mounting needs root: CI runs as root; elsewhere the tests skip unless CI=true."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings

from jobs import artifacts
from jobs import services as job_services
from jobs.models import JobStatus
from studio import logs
from tests.conftest import require
from tests.jobs.conftest import make_zip, wait_status

FILL = """
import os
print("started", flush=True)
os.makedirs("outputs", exist_ok=True)
open("outputs/small.txt", "w").write("ok")
with open("outputs/big.bin", "wb") as f:
    for _ in range({mib}):
        f.write(b"x" * 1024 * 1024)
print("never here", flush=True)
"""
SMALL = "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/ok.txt', 'w').write('fine')\n"


@pytest.fixture
def tmpfs(tmp_path):
    """mount(size) -> a fresh tmpfs of that size; unmounted afterwards."""
    require(os.geteuid() == 0, "root (to mount a tmpfs)")
    mounted = []

    def mount(size: str) -> Path:
        point = tmp_path / f"tmpfs{len(mounted)}"
        point.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], check=True)
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def submit(workspace, owner, code: str):
    snapshot = job_services.do_create_code_snapshot(workspace, actor=owner, zip_file=make_zip({"main.py": code}))
    return job_services.do_submit_job(
        workspace, actor=owner, data={"command": "python main.py", "environment": "plain:1"}, code=snapshot
    )


def test_a_job_that_fills_its_disk_fails_keeps_its_log_and_no_truncated_output(
    node, workspace, owner, plain_env, tmpfs
):
    with override_settings(STUDIO_JOBS_DIR=tmpfs("8m")):
        job = wait_status(submit(workspace, owner, FILL.format(mib=64)), JobStatus.FAILED, timeout=180)
        assert "No space left on device" in job.failure_reason
        assert "started" in logs.read_all(job.log_stream("user_logs/std_log.txt"))
        assert artifacts.list_outputs(job) == [], "outputs written on a full disk are not kept"
        later = wait_status(submit(workspace, owner, SMALL), (JobStatus.COMPLETED, JobStatus.FAILED), timeout=180)
        assert later.status == JobStatus.COMPLETED, later.failure_reason
        assert [o["path"] for o in artifacts.list_outputs(later)] == ["outputs/ok.txt"]


def test_a_full_artifact_store_fails_the_job_and_lists_nothing_half_copied(node, workspace, owner, plain_env, tmpfs):
    store = tmpfs("2m")
    with override_settings(STUDIO_ARTIFACTS_DIR=store):
        job = wait_status(submit(workspace, owner, FILL.format(mib=4).replace("never here", "wrote")), JobStatus.FAILED)
        assert "No space left on the artifact store" in job.failure_reason
        assert "wrote" in logs.read_all(job.log_stream("user_logs/std_log.txt"))
        assert artifacts.list_outputs(job) == []
        assert not list(store.rglob("*.partial")), "the cut-short copy is removed"
        later = wait_status(submit(workspace, owner, SMALL), (JobStatus.COMPLETED, JobStatus.FAILED), timeout=180)
        assert later.status == JobStatus.COMPLETED, later.failure_reason
        assert [o["path"] for o in artifacts.list_outputs(later)] == ["outputs/ok.txt"]
