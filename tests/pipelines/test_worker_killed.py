"""A worker killed with SIGKILL in the middle of a pipeline step: the reaper fails the step's job
("node lost"), which fails the pipeline through the step-ended hook; nothing is left Running."""

from __future__ import annotations

import signal

from django.test import override_settings

from jobs import services
from jobs.models import Job, JobStatus
from pipelines.models import StepState
from studio import logs
from tests.jobs.conftest import wait_for, wait_status
from tests.jobs.test_node_lost import start_worker
from tests.pipelines.test_real_pipelines import _inline

COUNT = "for i in $(seq 1000); do echo tick $i; sleep 0.1; done"


def test_a_worker_killed_mid_step_fails_the_step_and_the_pipeline(
    transactional_db, no_dispatch, workspace, owner, plain_env
):
    body = {
        "type": "pipeline",
        "jobs": {
            "count": _inline(COUNT, outputs={"o": {}}),
            "after": _inline("ls ${{inputs.i}}", inputs={"i": "${{parent.jobs.count.outputs.o}}"}),
        },
    }
    pipeline = services.do_submit_job(workspace, actor=owner, data=body)
    step_job = pipeline.pipeline.steps.get(name="count").job
    worker = start_worker(step_job.pk)
    try:
        wait_status(step_job, JobStatus.RUNNING, timeout=60)
        wait_for(lambda: "tick 5" in logs.read_all(step_job.log_stream()), timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert Job.objects.get(pk=pipeline.pk).status == JobStatus.RUNNING, "nobody has noticed yet"
    with override_settings(STUDIO_JOB_LOST_AFTER_SECONDS=2):
        wait_for(
            lambda: services.reap_stalled_jobs() or Job.objects.get(pk=step_job.pk).status != JobStatus.RUNNING,
            timeout=15,
            interval=0.5,
        )
    pipeline = wait_status(pipeline, (JobStatus.FAILED,), timeout=10)
    assert "step count failed" in pipeline.failure_reason and "Node lost" in pipeline.failure_reason
    steps = {s.name: s for s in pipeline.pipeline.steps.all()}
    assert steps["count"].state == StepState.FAILED
    assert steps["after"].state == StepState.SKIPPED
