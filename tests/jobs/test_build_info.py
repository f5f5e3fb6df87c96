"""Build info never contradicts itself: a job whose environment was already built records a cache
hit with "already built (build #N)", in its build info and in system_logs/environment/build.txt;
the "Build" button on a built version says so, and "Rebuild" says it skips the cache."""

from __future__ import annotations

import pytest

from environments import builds
from jobs.models import JobStatus
from studio import logs
from tests.conftest import token_client
from tests.jobs.conftest import wait_status
from tests.jobs.test_run_venv import submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_job_on_an_already_built_environment_says_cache_hit_consistently(node, workspace, owner, plain_env):
    built = builds.ensure_built(plain_env, "venv", workspace=workspace, actor=owner)
    assert "cache miss" in built.reason  # why it was built back then
    job = submit(token_client(owner), workspace, {"command": "echo ok", "environment": "plain:1"})
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED))
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert job.build_info["cache_hit"] is True
    assert job.build_info["reason"] == f"already built (build #{built.pk})"
    build_txt = logs.read_all(job.log_stream("system_logs/environment/build.txt"))
    assert f"already built (build #{built.pk})" in build_txt and "cache miss" not in build_txt


def test_build_on_a_built_version_says_already_built_and_rebuild_says_it_skips_the_cache(
    workspace, owner, plain_env, client, monkeypatch
):
    monkeypatch.setattr("environments.tasks.build_environment.delay", lambda build_id: None)
    built = builds.ensure_built(plain_env, "venv", workspace=workspace, actor=owner)
    client.force_login(owner)
    url = f"/w/{workspace.name}/environments/plain/versions/1/build/"
    page = client.post(url, {"backend": "venv"}, follow=True).content.decode()
    assert f"Already built on venv (build #{built.pk})" in page
    page = client.post(url, {"backend": "venv", "rebuild": "1"}, follow=True).content.decode()
    assert "it skips the cache" in page
