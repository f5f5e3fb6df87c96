"""Real pipelines on real workers: steps are sandboxed child command jobs, data flows through the
default datastore, identical deterministic steps are reused at once and say why."""

from __future__ import annotations

import time

from jobs.models import Job, JobStatus
from pipelines.models import StepState
from tests.conftest import token_client
from tests.jobs.conftest import wait_status
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
