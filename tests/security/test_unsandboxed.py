"""A node without a sandbox runs no user code, unless a setting allows it, and then says so."""

from __future__ import annotations

import pytest

from compute import services
from compute.capabilities import host_report
from jobs.models import FailureKind, JobStatus
from tests.compute.conftest import make_target
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


def test_the_compute_page_shouts_when_a_node_has_no_sandbox(client, owner, workspace):
    target = make_target(workspace, owner, name="gpu-pool", min_instances=0, max_instances=2)
    report = host_report(target)
    assert report["backends"]["venv"]["available"] is False
    services.do_register_node(
        queue=target.queue_name, worker_name="w1@box", hostname="box", pid=1, capacity=1, report=report
    )
    client.force_login(owner)
    body = client.get(f"/w/{workspace.name}/compute/{target.name}/").content.decode()
    assert "w1@box:</strong> No sandbox on this node" in body
