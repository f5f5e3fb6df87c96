"""The whole distributed path with a real node: the API enqueues the run on the compute target's
Celery queue (Redis), a `manage.py studio_worker` process runs it, and when that worker is killed
with SIGKILL the compute reaper's `node_lost` signal fails the job with "node lost"."""

from __future__ import annotations

import signal

import pytest
from django.test import override_settings

from compute import services as compute_services
from jobs.models import Job, JobStatus
from studio import logs
from tests.compute.conftest import make_target, purged, worker_env, workers  # noqa: F401 - fixtures
from tests.conftest import token_client
from tests.jobs.conftest import make_environment, make_zip, wait_for, wait_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

TICKER = "import time\nfor i in range(600):\n    print('tick', i, flush=True)\n    time.sleep(0.1)\n"


def test_a_real_node_runs_the_job_and_its_death_fails_it_as_node_lost(workers, workspace, owner, settings):  # noqa: F811
    make_environment(workspace, owner, "plain")
    target = make_target(workspace, owner, name="jobs-node-test", max_instances=1)
    api = token_client(owner)
    with purged(target.queue_name):
        node = workers.start(f"{workspace.name}/{target.name}")
        wait_for(lambda: target.nodes().filter(state="Ready").exists(), 60)
        code = api.post(
            f"/api/v1/workspaces/{workspace.name}/codes/", {"file": make_zip({"t.py": TICKER})}, format="multipart"
        ).json()["id"]
        first = api.post(
            f"/api/v1/workspaces/{workspace.name}/jobs/",
            {"command": "echo hello from a node", "environment": "plain:1", "compute": target.name},
            format="json",
        ).json()
        done = wait_status(Job.objects.get(name=first["name"]), (JobStatus.COMPLETED, JobStatus.FAILED), timeout=120)
        assert done.status == JobStatus.COMPLETED, (done.failure_reason, workers.log(node))
        registered = target.nodes().get()
        assert done.node == registered.worker_name, "the job records the node that ran it"
        assert "hello from a node" in logs.read_all(done.log_stream("user_logs/std_log.txt"))

        second = api.post(
            f"/api/v1/workspaces/{workspace.name}/jobs/",
            {"command": "python t.py", "environment": "plain:1", "compute": target.name, "code": code},
            format="json",
        ).json()
        job = wait_status(Job.objects.get(name=second["name"]), JobStatus.RUNNING, timeout=60)
        stream = job.log_stream("user_logs/std_log.txt")
        wait_for(lambda: "tick 3" in logs.read_all(stream), 30)
        workers.stop(node, sig=signal.SIGKILL, timeout=10)
        kept = logs.read_all(stream)
        with override_settings(STUDIO_NODE_UNREACHABLE_SECONDS=2):
            wait_for(lambda: compute_services.reap_nodes() or Job.objects.get(pk=job.pk).is_final, 20, 0.5)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.failure_kind == "node_lost", job.failure_reason
    assert registered.worker_name in job.failure_reason
    assert logs.read_all(stream).startswith(kept[:-100])
