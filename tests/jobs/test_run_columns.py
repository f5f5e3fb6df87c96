"""Param, metric and tag columns in the experiment table and the jobs list: sorted on the server
(with the filters, runs without the key last), the chooser drawn with its defaults, and the same
sort through the REST API."""

from __future__ import annotations

import re

import pytest

from jobs.models import Experiment
from tests.conftest import token_client
from tests.jobs.test_metrics_pages import make_job
from tracking import services


@pytest.fixture
def runs(workspace, owner):
    experiment = Experiment.objects.create(workspace=workspace, name="sweep")
    for name, lr, acc in [
        ("run_a", "0.1", 0.70),
        ("run_b", "0.01", 0.90),
        ("run_c", "0.5", 0.80),
        ("run_d", None, None),
    ]:
        job = make_job(workspace, owner, experiment, name)
        job.tags = {"team": "vision"} if name == "run_a" else {}
        job.save(update_fields=["tags"])
        params = [{"key": "lr", "value": lr}] if lr else []
        metrics = [{"key": "acc", "value": acc, "step": 0, "timestamp": 1}] if acc is not None else []
        services.do_log_batch(job, metrics, params, [])
    return experiment


def _order(html: str) -> list[str]:
    return [n for n in re.findall(r'<td class="mono small clip minor">(run_\w)</td>', html)]


def test_experiment_table_sorts_by_metric_and_param_both_ways_missing_last(client, members, runs):
    client.force_login(members["reader"])
    base = "/w/ws-main/experiments/sweep/"
    assert _order(client.get(base + "?sort=metric:acc").content.decode()) == ["run_a", "run_c", "run_b", "run_d"]
    page = client.get(base + "?sort=-metric:acc").content.decode()
    assert _order(page) == ["run_b", "run_c", "run_a", "run_d"]
    assert 'aria-sort="descending"' in page and "?sort=metric%3Aacc" in page
    assert _order(client.get(base + "?sort=-param:lr").content.decode()) == ["run_c", "run_a", "run_b", "run_d"]
    filtered = client.get(
        base + "?sort=-metric:acc&status=Completed", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-rows"
    )
    assert "<html" not in filtered.content.decode() and _order(filtered.content.decode())[0] == "run_b"


def test_chooser_lists_param_and_metric_columns_with_defaults_per_user(client, owner, runs):
    client.force_login(owner)
    page = client.get("/w/ws-main/experiments/sweep/").content.decode()
    assert f'data-col-scope="{owner.pk}:ws-main:experiment:sweep"' in page
    assert 'data-col-toggle="param:lr" checked' in page and 'data-col-toggle="metric:acc" checked' in page
    assert '<td class="num" data-col="metric:acc">0.9000</td>' in page


def test_jobs_list_shows_tags_and_metric_columns_and_sorts(client, owner, runs):
    client.force_login(owner)
    page = client.get("/w/ws-main/jobs/?sort=-metric:acc").content.decode()
    assert '<span class="tag">team: vision</span>' in page
    assert 'data-col-toggle="tags" checked' in page and 'data-col-toggle="metric:acc" checked' in page
    assert 'data-col-toggle="param:lr">' in page, "params are offered, hidden by default"
    assert _order(page) == ["run_b", "run_c", "run_a", "run_d"]


def test_api_list_sorts_by_metric_and_ignores_unknown_sorts(owner, runs):
    api = token_client(owner)
    names = [j["name"] for j in api.get("/api/v1/workspaces/ws-main/jobs/?sort=-metric:acc").json()["results"]]
    assert names == ["run_b", "run_c", "run_a", "run_d"]
    assert api.get("/api/v1/workspaces/ws-main/jobs/?sort=metric:").status_code == 200
    assert api.get("/api/v1/workspaces/ws-main/jobs/?sort=param:nope").status_code == 200
