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
    trials = list(Job.objects.filter(parent=sweep).order_by("pk"))
    assert [t.status for t in trials] == [
        JobStatus.QUEUED,
        JobStatus.QUEUED,
        JobStatus.NOT_STARTED,
        JobStatus.NOT_STARTED,
    ], "two at a time, the next two ready"
    assert all(0.0067 < float(t.command.split("(")[1].split(")")[0]) < 0.37 for t in trials)
    client.force_login(owner)
    assert client.get(f"/w/{workspace.name}/jobs/tune/").url == f"/w/{workspace.name}/sweeps/tune/"
    page = client.get(f"/w/{workspace.name}/sweeps/tune/").content.decode()
    assert "2 of 5" in page and "Cancel sweep" in page and trials[0].name in page
    assert "2 (at most 2)" in page and "Next up" in page
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
    assert Job.objects.filter(parent=sweep).count() == 4, "no trial is started after the cancel"
    partial = client.get(f"/w/{workspace.name}/sweeps/tune/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="sweep-body")
    assert partial.status_code == 286 and b"<html" not in partial.content
    client.force_login(outsider)
    assert client.get(f"/w/{workspace.name}/sweeps/tune/").status_code == 404


def test_a_trial_that_cannot_be_started_stops_the_sweep_with_the_reason(
    owner, workspace, plain_env, no_dispatch, django_capture_on_commit_callbacks
):
    from jobs import services
    from sweeps.services import on_trial_started

    services.do_submit_job(
        workspace, actor=owner, data={"command": "true", "environment": "plain:1", "name": "t_trial_4"}
    )
    assert _submit(owner, workspace, name="t").status_code == 201
    sweep = Job.objects.get(name="t")
    trials = list(sweep.sweep.trials.select_related("job", "job__workspace"))
    with django_capture_on_commit_callbacks(execute=True):
        services.do_cancel_job(trials[0].job, actor=owner)  # the ready trial 2 starts in its place
    on_trial_started(sweep.pk, trials[2].job_id)  # as it runs, trial 4 is asked: its name is taken
    sweep.sweep.refresh_from_db()
    assert "Trial 4 could not be started" in sweep.sweep.stop_reason and "t_trial_4" in sweep.sweep.stop_reason
    assert sweep.sweep.trials.count() == 4
    assert Job.objects.get(pk=trials[3].job_id).status == JobStatus.CANCELED, "the ready trial 3 never starts"
    with django_capture_on_commit_callbacks(execute=True):
        for trial in trials[1:3]:
            services.do_cancel_job(Job.objects.get(pk=trial.job_id), actor=owner)
    sweep.refresh_from_db()
    assert sweep.status == JobStatus.FAILED and "could not be started" in sweep.failure_reason


def test_the_trials_table_sorts_on_the_server_and_the_charts_get_only_new_points(
    client, owner, outsider, workspace, plain_env, no_dispatch
):
    from tracking.services import MetricIn, do_log_metrics

    assert (
        _submit(owner, workspace, name="tune", limits={"max_total_trials": 3, "max_concurrent_trials": 3}).status_code
        == 201
    )
    trials = list(Job.objects.get(name="tune").sweep.trials.select_related("job"))
    for trial in trials:
        do_log_metrics(trial.job, [MetricIn("acc", trial.params["lr"] * 10, 1000, step) for step in range(3)])
    client.force_login(owner)
    page = f"/w/{workspace.name}/sweeps/tune/"
    by_lr = sorted(trials, key=lambda t: t.params["lr"])
    for sort, expected in (("lr", by_lr), ("-lr", by_lr[::-1]), ("number", trials), ("nonsense", trials)):
        html = client.get(page, {"sort": sort}).content.decode()
        positions = [html.index(f">{t.job.name}</a>") for t in expected]
        assert positions == sorted(positions), sort
    assert 'aria-sort="descending"' in client.get(page, {"sort": "-lr"}).content.decode()

    data = client.get(page + "data/").json()
    assert data["metric"] == "acc" and data["params"] == ["lr"] and len(data["trials"]) == 3
    assert {int(n): len(p) for n, p in data["points"].items()} == {t.number: 3 for t in trials}
    assert data["final"] is False
    do_log_metrics(trials[0].job, [MetricIn("acc", 0.5, 2000, 3)])
    more = client.get(page + "data/", {"after": data["cursor"]}).json()
    assert more["points"] == {str(trials[0].number): [[3, 0.5]]}, "only what is new since the cursor"
    assert client.get(page + "data/", {"after": "x"}).status_code == 400
    client.force_login(outsider)
    assert client.get(page + "data/").status_code == 404


def test_the_trials_api_lists_a_sweeps_trials_to_members_only(
    owner, members, outsider, workspace, plain_env, no_dispatch
):
    assert _submit(owner, workspace, name="tune").status_code == 201
    url = f"/api/v1/workspaces/{workspace.name}/jobs/tune/trials/"
    rows = token_client(members["reader"]).get(url).json()
    assert [r["number"] for r in rows] == [0, 1, 2, 3] and rows[0]["job"] == "tune_trial_0"
    assert rows[0]["state"] == "running"
    assert [r["job_status"] for r in rows] == [JobStatus.QUEUED] * 2 + [JobStatus.NOT_STARTED] * 2
    assert token_client(outsider).get(url).status_code in (403, 404)
    assert token_client(owner).get(f"/api/v1/workspaces/{workspace.name}/jobs/tune_trial_0/trials/").status_code == 404


def test_a_failed_sweep_says_why_once_and_counts_trials_without_the_metric_apart(
    client, owner, workspace, plain_env, no_dispatch
):
    assert _submit(owner, workspace, name="quiet").status_code == 201
    sweep = Job.objects.get(name="quiet")
    why = "Trial 1 (quiet_trial_1) completed without logging the primary metric 'acc'."
    sweep.sweep.trials.filter(number=0).update(state=TrialState.NO_METRIC)
    sweep.sweep.trials.filter(number=1).update(state=TrialState.FAILED)
    type(sweep.sweep).objects.filter(pk=sweep.sweep.pk).update(notice=why)
    Job.objects.filter(pk=sweep.pk).update(status=JobStatus.FAILED, failure_reason=why)
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/sweeps/quiet/").content.decode()
    assert page.count("completed without logging the primary metric") == 1, "the same words are not shown twice"
    assert "<dt>Failed</dt><dd>1</dd>" in page
    assert "<dt>No primary metric</dt><dd>1</dd>" in page
    assert "No trial finished with a value of acc." in page and "yet" not in page.split("Best trial")[1][:200]
