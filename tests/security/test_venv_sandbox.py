"""A job on the venv backend runs in the sandbox: each test is an attack that worked before it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings

from jobs.models import JobStatus
from tests.security.conftest import run_job, system_log

pytestmark = pytest.mark.usefixtures("node", "plain_env", "bwrap")


def test_a_job_cannot_read_the_secret_key_or_the_database(owner, workspace):
    secret = Path(settings.DATA_DIR) / "secret_key"
    secret.write_text("the-install-secret-0123456789\n")  # where `make run` keeps it
    database = settings.DATABASES["default"]["TEST"].get("NAME") or settings.DATABASES["default"]["NAME"]
    job, out = run_job(
        owner,
        workspace,
        f"cat {secret}; head -c 16 {database}; ls {settings.DATA_DIR}; echo done",
    )
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert "the-install-secret" not in out
    assert "SQLite format" not in out
    assert "No such file or directory" in out and "done" in out


def test_a_job_cannot_read_another_jobs_folder(owner, workspace):
    other = Path(settings.STUDIO_JOBS_DIR) / "999999-0" / "outputs"
    other.mkdir(parents=True)
    (other / "model.txt").write_text("someone else's weights\n")
    job, out = run_job(owner, workspace, f"cat {other}/model.txt; ls {settings.STUDIO_JOBS_DIR}; echo done")
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert "someone else's weights" not in out
    assert out.splitlines()[1:] == [f"{job.pk}-{job.attempt}", "done"], "only its own folder is there"


def test_a_job_cannot_read_the_workers_environment(owner, workspace):
    job, out = run_job(
        owner,
        workspace,
        f"cat /proc/{os.getpid()}/environ; cat /proc/1/environ; cat /proc/2/environ; echo; ls /proc | grep -c '^[0-9]'",
    )
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert settings.SECRET_KEY not in out
    assert "STUDIO_SECRET_KEY" not in out and "DJANGO_SETTINGS_MODULE" not in out
    assert int(out.strip().splitlines()[-1]) < 10, "the job sees only its own few processes"


def test_a_job_cannot_poison_a_shared_venv_for_the_next_job(owner, workspace):
    poison = (
        "import site, sys\n"
        "path = site.getsitepackages()[0] + '/zz_studio_poison.pth'\n"
        "try:\n"
        "    open(path, 'w').write('import sys; print(\"POISONED\", file=sys.stderr)\\n')\n"
        "    print('wrote', path)\n"
        "except OSError as exc:\n"
        "    print('refused:', exc)\n"
    )
    job, out = run_job(owner, workspace, "python poison.py", files={"poison.py": poison})
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert "refused:" in out and "Read-only file system" in out, out
    job, out = run_job(owner, workspace, "python -c 'print(\"clean\")'")
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert "POISONED" not in out and "clean" in out


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in cmdline:
                found.append(int(entry))
    return found


def test_nothing_a_job_starts_outlives_it(owner, workspace):
    token = "987.654321"
    try:
        job, out = run_job(owner, workspace, f"setsid sleep {token} > /dev/null 2>&1 < /dev/null & echo started")
        assert job.status == JobStatus.COMPLETED, job.failure_reason
        assert "started" in out
        deadline = time.monotonic() + 5
        while _processes_with(token) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_with(token) == [], "a setsid'd process outlived its job"
    finally:
        for pid in _processes_with(token):
            os.kill(pid, 9)


def test_every_job_says_how_it_is_isolated(owner, workspace):
    job, out = run_job(owner, workspace, "id -u; touch /usr/x 2>&1 || true")
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert out.splitlines()[0] == "65534"
    assert "Read-only file system" in out
    assert "Sandbox: bubblewrap" in system_log(job)


def test_a_job_cannot_change_kernel_tunables(owner, workspace):
    # Writes back the value it reads: harmless if it got through. (A worker running as root maps
    # the job to root, which may write sysctls such as kernel.core_pattern.)
    job, out = run_job(
        owner,
        workspace,
        "v=$(cat /proc/sys/vm/overcommit_ratio); echo $v > /proc/sys/vm/overcommit_ratio && echo WROTE; echo done",
    )
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert "WROTE" not in out and "Read-only file system" in out and "done" in out
