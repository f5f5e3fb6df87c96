"""The sweep page and canceling a sweep from it (trials stay queued: nothing runs them here)."""

from __future__ import annotations

from jobs.models import Job, JobStatus
from sweeps.models import TrialState
from tests.conftest import token_client

SWEEP = {
    "type": "sweep",
    "name": "tune-<b>",
    "trial": {"command": "python -c 'print(${{search_space.lr}})'", "environment": "plain:1"},
    "search_space": {"lr": {"type": "loguniform", "min_value": -5, "max_value": -1}},
    "objective": {"primary_metric": "acc", "goal": "maximize"},
    "sampling_algorithm": {"type": "random", "seed": 1},
    "limits": {"max_total_trials": 5, "max_concurrent_trials": 2},
}


def _submit(owner, workspace, **changes):
    answer = token_client(owner).post(f"/api/v1/workspaces/{workspace.name}/jobs/", {**SWEEP, **changes}, format="json")
    return answer


def test_a_bad_name_is_a_field_error_not_a_500(owner, workspace, plain_env, no_dispatch):
    answer = _submit(owner, workspace)
    assert answer.status_code == 400 and "name" in answer.json()["errors"]


def test_the_sweep_page_shows_progress_and_cancel_cancels_the_trials(
    client, owner, outsider, workspace, plain_env, no_dispatch, django_capture_on_commit_callbacks
):
    answer = _submit(owner, workspace, name="tune")
    assert answer.status_code == 201, answer.content
    sweep = Job.objects.get(name="tune")
    trials = list(Job.objects.filter(parent=sweep))
    assert len(trials) == 2, "two at a time"
    assert all(0.0067 < float(t.command.split("(")[1].split(")")[0]) < 0.37 for t in trials)
    client.force_login(owner)
    assert client.get(f"/w/{workspace.name}/jobs/tune/").url == f"/w/{workspace.name}/sweeps/tune/"
    page = client.get(f"/w/{workspace.name}/sweeps/tune/").content.decode()
    assert "2 of 5" in page and "Cancel sweep" in page and trials[0].name in page
    for tab in ("outputs/", "metrics/", "code/", "environment/"):
        assert client.get(f"/w/{workspace.name}/jobs/tune/{tab}").status_code == 200, tab
    listed = token_client(owner).get(f"/api/v1/workspaces/{workspace.name}/jobs/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {r["name"]: r["parent"] for r in rows if r["name"].startswith("tune")}["tune_trial_0"] == "tune"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/w/{workspace.name}/jobs/tune/cancel/")
    sweep.refresh_from_db()
    assert sweep.status == JobStatus.CANCELED
    assert set(Job.objects.filter(parent=sweep).values_list("status", flat=True)) == {JobStatus.CANCELED}
    assert set(sweep.sweep.trials.values_list("state", flat=True)) == {TrialState.CANCELED}
    assert Job.objects.filter(parent=sweep).count() == 2, "no trial is started after the cancel"
    partial = client.get(f"/w/{workspace.name}/sweeps/tune/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="sweep-body")
    assert partial.status_code == 286 and b"<html" not in partial.content
    client.force_login(outsider)
    assert client.get(f"/w/{workspace.name}/sweeps/tune/").status_code == 404


def test_a_trial_that_cannot_be_started_stops_the_sweep_with_the_reason(
    owner, workspace, plain_env, no_dispatch, django_capture_on_commit_callbacks
):
    from jobs import services

    services.do_submit_job(
        workspace, actor=owner, data={"command": "true", "environment": "plain:1", "name": "t_trial_2"}
    )
    assert _submit(owner, workspace, name="t").status_code == 201
    sweep = Job.objects.get(name="t")
    first, second = sweep.sweep.trials.select_related("job", "job__workspace")
    with django_capture_on_commit_callbacks(execute=True):
        services.do_cancel_job(first.job, actor=owner)
    sweep.sweep.refresh_from_db()
    assert "Trial 2 could not be started" in sweep.sweep.stop_reason and "t_trial_2" in sweep.sweep.stop_reason
    assert sweep.sweep.trials.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        services.do_cancel_job(second.job, actor=owner)
    sweep.refresh_from_db()
    assert sweep.status == JobStatus.FAILED and "could not be started" in sweep.failure_reason
