"""Real pipelines on real workers: steps are sandboxed child command jobs, data flows through the
default datastore, identical deterministic steps are reused at once and say why."""

from __future__ import annotations

import time

from jobs.models import Job, JobStatus
from pipelines.models import StepState
from tests.conftest import token_client
from tests.jobs.conftest import wait_for, wait_status
from tests.pipelines.conftest import three_steps

FINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


def _submit(api, workspace, body) -> Job:
    answer = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/", body, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["type"] == "pipeline"
    return Job.objects.get(workspace=workspace, name=answer.json()["name"])


def _steps(job) -> dict:
    return {s.name: s for s in job.pipeline.steps.select_related("job", "reused_from")}


def test_prep_train_score_passes_a_folder_and_a_model_then_reuses_and_reruns_what_changed(
    node, workspace, owner, plain_env, codes
):
    api = token_client(owner)
    first = wait_status(_submit(api, workspace, three_steps(codes)), FINAL, timeout=180)
    steps = _steps(first)
    assert first.status == JobStatus.COMPLETED, (first.failure_reason, {n: s.reason for n, s in steps.items()})
    assert all(s.state == StepState.COMPLETED for s in steps.values())
    assert all(s.job.parent_id == first.pk for s in steps.values())
    assert steps["prep"].job.ended_at <= steps["train"].job.started_at, "train waited for its input"
    scores = steps["score"].outputs["scores"]["uri"]
    assert first.outputs["scored"]["uri"] == scores
    listing = api.get(
        f"/api/v1/workspaces/{workspace.name}/datastores/workspaceblobstore/files/",
        {"path": scores.split("/paths/", 1)[1] + "scores.txt"},
    )
    assert listing.status_code == 200 and b"7.5" in b"".join(listing.streaming_content), "3 * (0+..+5) * 0.5"
    assert "first run of train" in steps["train"].explanation

    started = time.monotonic()
    second = _submit(api, workspace, three_steps(codes))
    assert time.monotonic() - started < 5
    second.refresh_from_db()
    assert second.status == JobStatus.COMPLETED, "every step reused at submission"
    again = _steps(second)
    assert all(s.state == StepState.REUSED and s.job is None for s in again.values())
    assert again["train"].reused_from == steps["train"].job
    assert again["train"].explanation == (
        f"reused from {steps['train'].job.name}: same component train:1, same code, "
        "same environment plain:1, same inputs"
    )
    assert all((s.ended_at - s.started_at).total_seconds() < 1 for s in again.values())

    third = wait_status(_submit(api, workspace, three_steps(codes, train_code=codes["train2"])), FINAL, timeout=180)
    changed = _steps(third)
    assert third.status == JobStatus.COMPLETED, third.failure_reason
    assert changed["prep"].state == StepState.REUSED
    assert changed["train"].state == StepState.COMPLETED and changed["score"].state == StepState.COMPLETED
    assert changed["train"].explanation == "component: train:1 -> train:2; code: train.py changed"
    assert changed["score"].explanation == "inputs.model: content of train.outputs.model changed"
    page = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{third.name}/steps/").json()
    assert {s["name"]: s["state"] for s in page} == {"prep": "reused", "train": "completed", "score": "completed"}


def _inline(command: str, **more) -> dict:
    return {"type": "command", "command": command, "environment": "azureml:plain:1", **more}


def test_parallel_branches_overlap_in_time_and_join(node, workspace, owner, plain_env):
    api = token_client(owner)
    slow = "sleep 2 && echo done > ${{outputs.out}}/done.txt"
    body = {
        "type": "pipeline",
        "settings": {"force_rerun": True, "default_datastore": "azureml:workspacefilestore"},
        "jobs": {
            "left": _inline(slow, outputs={"out": {"type": "uri_folder"}}),
            "right": _inline(slow, outputs={"out": {"type": "uri_folder"}}),
            "join": _inline(
                "cat ${{inputs.a}}/done.txt ${{inputs.b}}/done.txt",
                inputs={"a": "${{parent.jobs.left.outputs.out}}", "b": "${{parent.jobs.right.outputs.out}}"},
            ),
        },
    }
    job = wait_status(_submit(api, workspace, body), FINAL, timeout=120)
    steps = _steps(job)
    assert job.status == JobStatus.COMPLETED, {n: s.reason for n, s in steps.items()}
    left, right, join = steps["left"].job, steps["right"].job, steps["join"].job
    assert left.running_at < right.ended_at and right.running_at < left.ended_at, "the branches ran at once"
    assert join.started_at >= max(left.ended_at, right.ended_at)
    assert "force_rerun is set" in steps["left"].explanation
    assert steps["left"].outputs["out"]["uri"].startswith("azureml://datastores/workspacefilestore/paths/azureml/")


def test_a_failed_step_stops_the_pipeline_unless_continue_on_step_failure(node, workspace, owner, plain_env):
    api = token_client(owner)

    def body(go_on: bool) -> dict:
        return {
            "type": "pipeline",
            "settings": {"continue_on_step_failure": go_on},
            "jobs": {
                "bad": _inline("echo broken >&2; exit 3", outputs={"out": {"type": "uri_folder"}}),
                "after_bad": _inline("ls ${{inputs.x}}", inputs={"x": "${{parent.jobs.bad.outputs.out}}"}),
                "good": _inline("sleep 4; echo fine", is_deterministic=False),
            },
        }

    stopped = wait_status(_submit(api, workspace, body(False)), FINAL, timeout=120)
    steps = _steps(stopped)
    assert stopped.status == JobStatus.FAILED and "step bad failed" in stopped.failure_reason
    assert steps["after_bad"].state == StepState.SKIPPED
    assert steps["good"].state == StepState.CANCELED, "a running sibling is canceled"

    going = wait_status(_submit(api, workspace, body(True)), FINAL, timeout=120)
    steps = _steps(going)
    assert going.status == JobStatus.FAILED
    assert steps["good"].state == StepState.COMPLETED, "independent steps go on"
    assert steps["after_bad"].state == StepState.SKIPPED and "upstream step bad failed" in steps["after_bad"].reason


def test_canceling_a_pipeline_cancels_its_running_step_and_the_rest(node, workspace, owner, plain_env):
    api = token_client(owner)
    body = {
        "type": "pipeline",
        "jobs": {
            "long": _inline("for i in $(seq 100); do echo tick $i; sleep 0.2; done", outputs={"o": {}}),
            "next": _inline("ls ${{inputs.i}}", inputs={"i": "${{parent.jobs.long.outputs.o}}"}),
        },
    }
    job = _submit(api, workspace, body)
    long_job = _steps(job)["long"].job
    wait_status(long_job, JobStatus.RUNNING, timeout=60)
    answer = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/cancel/")
    assert answer.status_code == 200 and answer.json()["status"] == JobStatus.CANCELED
    assert wait_status(long_job, FINAL, timeout=30).status == JobStatus.CANCELED
    # The step is recorded by the hook that runs once the runner's transaction commits.
    wait_for(lambda: _steps(job)["long"].state == StepState.CANCELED, timeout=10)
    steps = _steps(Job.objects.get(pk=job.pk))
    assert steps["long"].state == StepState.CANCELED and steps["next"].state == StepState.CANCELED
    again = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/cancel/")
    assert again.status_code == 409


def test_rerun_from_a_step_runs_it_and_what_follows_and_reuses_the_rest(node, workspace, owner, plain_env):
    api = token_client(owner)
    body = {
        "type": "pipeline",
        "jobs": {
            "a": _inline("echo a > ${{outputs.o}}/a.txt", outputs={"o": {}}),
            "b": _inline("cat ${{inputs.i}}/a.txt", inputs={"i": "${{parent.jobs.a.outputs.o}}"}),
        },
    }
    first = wait_status(_submit(api, workspace, body), FINAL, timeout=120)
    assert first.status == JobStatus.COMPLETED
    answer = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/{first.name}/steps/b/rerun/")
    assert answer.status_code == 201, answer.content
    rerun = wait_status(Job.objects.get(workspace=workspace, name=answer.json()["name"]), FINAL, timeout=120)
    steps = _steps(rerun)
    assert rerun.status == JobStatus.COMPLETED
    assert steps["a"].state == StepState.REUSED and steps["a"].reused_from == _steps(first)["a"].job
    assert steps["b"].state == StepState.COMPLETED and steps["b"].explanation == "rerun from this step was asked for"
    missing = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/{first.name}/steps/zzz/rerun/")
    assert missing.status_code == 400 and "no step 'zzz'" in str(missing.json())
