"""A docker target sized bigger than the engine (8 cores on a smaller host) still runs its jobs, with
all the CPUs the engine has, instead of failing every one with Docker's CPU range error."""

from __future__ import annotations

import os

import pytest

from compute.models import ComputeTarget
from jobs.models import JobStatus
from tests.conftest import token_client
from tests.jobs.conftest import wait_status
from tests.jobs.test_run_venv import submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker]


def test_a_job_on_a_target_bigger_than_the_host_runs(node, workspace, owner, plain_env, docker_target):
    cores = (os.cpu_count() or 1) * 4
    ComputeTarget.objects.filter(pk=docker_target.pk).update(cpu_cores=cores)
    job = submit(token_client(owner), workspace, {"command": "echo fits", "environment": "plain:1", "compute": "dock"})
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=180)
    assert job.status == JobStatus.COMPLETED, job.failure_reason
