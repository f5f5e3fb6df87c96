"""The Metrics tab partial and the experiment's run comparison."""

import pytest

from jobs.models import Experiment, Job, JobStatus
from tracking import services


def make_job(workspace, owner, experiment, name, status=JobStatus.COMPLETED):
    return Job.objects.create(
        workspace=workspace,
        name=name,
        experiment=experiment,
        created_by=owner,
        status=status,
        command="python train.py",
        environment_ref="Studio-minimal@latest",
        compute_name="local",
    )


@pytest.fixture
def experiment(workspace):
    return Experiment.objects.create(workspace=workspace, name="diabetes")


def test_metrics_partial_shows_charts_tables_and_stops_polling_when_final(workspace, members, experiment, client):
    job = make_job(workspace, members["owner"], experiment, "run_a")
    services.do_log_batch(
        job,
        [{"key": "loss", "value": v, "step": i, "timestamp": 1} for i, v in enumerate([0.9, 0.5, 0.2])],
        [{"key": "alpha", "value": "0.5"}],
        [{"key": "note", "value": "<b>hi</b>"}],
    )
    client.force_login(members["reader"])
    response = client.get("/w/ws-main/jobs/run_a/metrics/partial/", HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    body = response.content.decode()
    assert "/w/ws-main/jobs/run_a/metrics/csv/" in body  # exact values: the table and the download
    assert "alpha" in body and "&lt;b&gt;hi&lt;/b&gt;" in body
    assert '<td class="num">0.2</td><td class="num">0.2</td><td class="num">0.9</td>' in body
    running = make_job(workspace, members["owner"], experiment, "run_b", status=JobStatus.RUNNING)
    empty = client.get(f"/w/ws-main/jobs/{running.name}/metrics/partial/", HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and b"No metrics yet" in empty.content


def test_metrics_of_another_workspace_are_404(workspace, owner, experiment, outsider, client):
    make_job(workspace, owner, experiment, "run_a")
    client.force_login(outsider)
    assert client.get("/w/ws-main/jobs/run_a/metrics/partial/").status_code == 404
    assert client.get("/w/ws-other/jobs/run_a/metrics/partial/").status_code == 404


def test_compare_overlays_selected_runs_and_marks_differing_params(workspace, members, experiment, client):
    for name, alpha, losses in [("run_a", "0.1", [0.9, 0.4]), ("run_b", "0.5", [0.8, 0.3]), ("run_c", "0.5", [1.0])]:
        job = make_job(workspace, members["owner"], experiment, name)
        services.do_log_batch(
            job,
            [{"key": "loss", "value": v, "step": i, "timestamp": 1} for i, v in enumerate(losses)],
            [{"key": "alpha", "value": alpha}, {"key": "solver", "value": "lbfgs"}],
            [],
        )
    client.force_login(members["reader"])
    body = client.get("/w/ws-main/experiments/diabetes/compare/?run=run_a&run=run_b").content.decode()
    assert 'id="compare-charts"' in body and '"keys": ["loss"]' in body
    assert '"runs": ["run_a", "run_b"]' in body and "run_c" not in body
    assert 'alpha <span class="badge">differs</span>' in body
    assert "solver <span" not in body
    assert client.get("/w/ws-main/experiments/diabetes/compare/?run=nope").status_code == 404
    assert client.get("/w/ws-main/experiments/unknown/compare/").status_code == 404


def test_mlflow_ui_links_lead_to_the_job_page(workspace, members, experiment, outsider, client):
    make_job(workspace, members["owner"], experiment, "run_a")
    client.force_login(members["reader"])
    page = client.get("/mlflow/")
    assert page.status_code == 200 and b"Opening the run" in page.content
    assert client.get(f"/mlflow/?experiment={experiment.pk}&run=run_a")["Location"] == "/w/ws-main/jobs/run_a/"
    assert client.get(f"/mlflow/?experiment={experiment.pk}")["Location"] == experiment.get_absolute_url()
    client.force_login(outsider)
    assert client.get(f"/mlflow/?experiment={experiment.pk}&run=run_a").status_code == 404


def test_outputs_tab_file_lists_refresh_only_while_the_job_runs(workspace, members, experiment, client):
    running = make_job(workspace, members["owner"], experiment, "run_live", status=JobStatus.RUNNING)
    done = make_job(workspace, members["owner"], experiment, "run_done")
    client.force_login(members["reader"])
    live = client.get(f"/w/ws-main/jobs/{running.name}/outputs/").content.decode()
    assert 'id="log-files" hx-get=' in live and 'hx-select="#log-files"' in live
    final = client.get(f"/w/ws-main/jobs/{done.name}/outputs/").content.decode()
    assert 'id="log-files">' in final and 'hx-select="#log-files"' not in final
