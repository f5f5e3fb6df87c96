"""Two jobs that need the same unbuilt environment: one build, the other waits for it and says so;
neither runs on a half-built venv."""

from __future__ import annotations

import uuid

import pytest

from environments import builds
from environments.locks import build_lock
from environments.models import BuildStatus, EnvironmentBuild
from jobs.models import Job, JobStatus
from studio import logs
from tests.conftest import token_client
from tests.jobs.conftest import make_environment, wait_for
from tests.security.conftest import FINAL, USER_LOG

BUILD_LOG = "system_logs/environment/build.txt"


@pytest.mark.usefixtures("bwrap")
def test_two_jobs_on_one_unbuilt_environment_share_one_build(node, workspace, owner):
    # A build variable makes the spec (and so the venv) new to this test run.
    version = make_environment(workspace, owner, "shared", environment_variables={"UV_STUDIO_NONCE": uuid.uuid4().hex})
    api = token_client(owner)
    # Another node holds the spec while the two jobs arrive, so both surely find it being built.
    holder = builds.new_build(
        version, "venv", workspace=workspace, actor=owner, reason="held", status=BuildStatus.RUNNING
    )
    with build_lock(holder, lambda line: None):
        names = []
        for _ in range(2):
            body = {"command": "python -c 'import sys; print(sys.prefix)'", "environment": "shared:1"}
            response = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/", body, format="json")
            assert response.status_code == 201, response.content
            names.append(response.json()["name"])
        jobs = lambda: Job.objects.filter(name__in=names)  # noqa: E731 - fresh rows each time
        waiting = f"Waiting for build #{holder.pk} on node"
        wait_for(lambda: all(waiting in logs.read_all(j.log_stream(BUILD_LOG)) for j in jobs()), timeout=60)
    EnvironmentBuild.objects.filter(pk=holder.pk).update(status=BuildStatus.FAILED)
    wait_for(lambda: jobs().filter(status__in=FINAL).count() == 2, timeout=240)
    for job in jobs():
        assert job.status == JobStatus.COMPLETED, job.failure_reason
    built = EnvironmentBuild.objects.filter(spec_hash=version.spec_hash, status=BuildStatus.SUCCEEDED)
    assert built.filter(cache_hit=False).count() == 1
    first = built.get(cache_hit=False)
    build_logs = [logs.read_all(j.log_stream(BUILD_LOG)) for j in jobs()]
    assert sum(f"Waiting for build #{first.pk} on node" in text for text in build_logs) == 1
    prefixes = {logs.read_all(j.log_stream(USER_LOG)).strip() for j in jobs()}
    assert prefixes == {first.location}
