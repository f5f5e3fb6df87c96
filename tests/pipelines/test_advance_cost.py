"""What one step end costs the orchestrator: the queries of advancing a pipeline when a step's job
ends do not grow with the number of steps (the state of a 3-step and a 30-step chain is the same
size to decide on: one step ended, one step to submit)."""

from __future__ import annotations

from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs import services as job_services
from jobs.integrations import upload_named_outputs
from jobs.models import Job, JobStatus
from jobs.runner.lifecycle import advance
from pipelines.models import StepState
from pipelines.services import pipelines as pipeline_services


def _chain(steps: int, salt: str) -> dict:
    jobs = {}
    for i in range(steps):
        step = {
            "type": "command",
            "environment": "azureml:plain:1",
            "command": "echo ${{inputs.prev}} > ${{outputs.out}}/n.txt" if i else "echo 0 > ${{outputs.out}}/n.txt",
            "environment_variables": {"STEP_NO": str(i), "SALT": salt},
            "outputs": {"out": {"type": "uri_folder"}},
        }
        if i:
            step["inputs"] = {"prev": f"${{{{parent.jobs.s{i - 1}.outputs.out}}}}"}
        jobs[f"s{i}"] = step
    return {"type": "pipeline", "experiment_name": "cost", "jobs": jobs}


def _end(job: Job, folder: Path) -> None:
    """The step's job completes as the runner leaves it: its output uploaded, then Completed."""
    (folder / "out").mkdir(parents=True)
    (folder / "out" / "n.txt").write_text(job.name)
    upload_named_outputs(job, folder, lambda line: None)
    previous = job.status
    for status in (JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.FINALIZING, JobStatus.COMPLETED):
        assert advance(job.pk, previous, status)
        previous = status


def _step_end_queries(workspace, owner, tmp_path, steps: int, salt: str) -> list[int]:
    """Queries of each of the first three step ends of a `steps`-step chain."""
    parent = job_services.do_submit_job(workspace, actor=owner, data=_chain(steps, salt))
    counts = []
    for i in range(3):
        row = parent.pipeline.steps.get(name=f"s{i}")
        assert row.state == StepState.RUNNING, (row.name, row.state, row.reason)
        _end(row.job, tmp_path / f"{salt}-{i}")
        with CaptureQueriesContext(connection) as queries:
            pipeline_services.advance_pipeline(parent.pk)
        counts.append(len(queries))
        row.refresh_from_db()
        assert row.state == StepState.COMPLETED
        nxt = parent.pipeline.steps.get(name=f"s{i + 1}")
        assert nxt.state == StepState.RUNNING, nxt.reason
    return counts


def test_a_step_end_costs_the_same_queries_for_4_or_30_steps(workspace, owner, plain_env, no_dispatch, tmp_path):
    short = _step_end_queries(workspace, owner, tmp_path, 4, "short")
    long = _step_end_queries(workspace, owner, tmp_path, 30, "long")
    assert short == long, (short, long)
    assert len(set(long)) == 1, long


def test_a_step_whose_job_name_is_taken_runs_under_a_generated_name(workspace, owner, plain_env, no_dispatch):
    squatter = job_services.do_submit_job(
        workspace, actor=owner, data={"name": "nightly_s0", "command": "true", "environment": "azureml:plain:1"}
    )
    data = _chain(2, "taken")
    data["name"] = "nightly"
    parent = job_services.do_submit_job(workspace, actor=owner, data=data)
    row = parent.pipeline.steps.get(name="s0")
    assert row.state == StepState.RUNNING, row.reason
    assert row.job.name not in ("nightly_s0", "") and row.job.parent_id == parent.pk
    assert Job.objects.get(pk=squatter.pk).parent_id is None
    assert Job.objects.filter(workspace=workspace, parent=parent).count() == 1
