"""A node without a sandbox runs no user code, unless a setting allows it, and then says so."""

from __future__ import annotations

import pytest

from jobs.models import FailureKind, JobStatus
from tests.security.conftest import run_job, system_log

pytestmark = pytest.mark.usefixtures("node", "plain_env", "no_bwrap")


def test_without_bubblewrap_a_job_fails_and_says_why(owner, workspace):
    job, out = run_job(owner, workspace, "echo ran")
    assert job.status == JobStatus.FAILED and job.failure_kind == FailureKind.INFRA
    assert "No sandbox on this node" in job.failure_reason and "STUDIO_ALLOW_UNSANDBOXED" in job.failure_reason
    assert "ran" not in out


def test_an_allowed_unsandboxed_job_runs_and_its_log_says_so(owner, workspace, settings):
    settings.STUDIO_ALLOW_UNSANDBOXED = True
    job, out = run_job(owner, workspace, "echo ran")
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert "ran" in out
    assert "UNSANDBOXED" in system_log(job)
