"""The charts' data: long series downsampled on the server, a cursor so a live chart fetches only
new points, exact values in the CSV download, single values on the comparison page."""

import csv
import io
import json

import pytest

from jobs.metrics.downsample import lttb
from jobs.metrics.series import MAX_POINTS
from jobs.models import Experiment, JobStatus
from tests.jobs.test_metrics_pages import make_job
from tracking import services as tracking_services


@pytest.fixture
def experiment(workspace):
    return Experiment.objects.create(workspace=workspace, name="diabetes")


def log(job, key, values, start=0):
    points = [{"key": key, "value": v, "step": start + i, "timestamp": 1000 + start + i} for i, v in enumerate(values)]
    for i in range(0, len(points), 1000):  # MLflow's batch limit
        tracking_services.do_log_batch(job, points[i : i + 1000], [], [])


def test_lttb_keeps_the_ends_and_the_peaks_within_the_budget():
    points = [(i, 0.0, i) for i in range(10_000)]
    points[4321] = (4321, 99.0, 4321)
    kept = lttb(points, 500)
    assert len(kept) == 500 and kept[0] == points[0] and kept[-1] == points[-1]
    assert (4321, 99.0, 4321) in kept
    assert lttb(points[:10], 500) == points[:10]


def test_a_long_series_is_downsampled_and_then_followed_with_a_cursor(workspace, members, experiment, client):
    job = make_job(workspace, members["owner"], experiment, "run_a", status=JobStatus.RUNNING)
    log(job, "loss", [1.0 / (i + 1) for i in range(MAX_POINTS * 3)])
    client.force_login(members["reader"])
    url = "/w/ws-main/jobs/run_a/metrics/series/"
    first = client.get(url).json()
    loss = first["series"]["loss"]
    assert loss["total"] == MAX_POINTS * 3 and loss["downsampled"] and len(loss["points"]) == MAX_POINTS
    assert first["final"] is False
    assert client.get(f"{url}?after={first['cursor']}").json()["series"] == {}
    log(job, "loss", [0.001, float("nan")], start=MAX_POINTS * 3)
    log(job, "acc", [0.5], start=0)
    new = client.get(f"{url}?after={first['cursor']}").json()
    assert new["series"]["loss"]["points"] == [[MAX_POINTS * 3, 0.001, 1000 + MAX_POINTS * 3]]  # NaN is not drawn
    assert new["series"]["acc"]["points"] == [[0, 0.5, 1000]]
    assert client.get(f"{url}?after={new['cursor']}").json()["series"] == {}
    zoomed = client.get(f"{url}?key=loss&from=100&to=300").json()["series"]["loss"]
    assert zoomed["total"] == 201 and not zoomed["downsampled"]
    assert [p[0] for p in zoomed["points"]] == list(range(100, 301))
    assert client.get(f"{url}?key=loss&from=nan&to=1").status_code == 400
    assert client.get(f"{url}?key=loss&from=-1e300&to=1e300").json()["series"]["loss"]["downsampled"]
    for bad_cursor in ["-1", "abc", "9" * 30]:
        bad = client.get(f"{url}?after={bad_cursor}")
        assert bad.status_code == 400 and bad.json()["errors"]["after"]


def test_the_csv_download_holds_every_exact_value(workspace, members, experiment, client):
    job = make_job(workspace, members["owner"], experiment, "run_a")
    log(job, "loss", [0.123456789 * i for i in range(5000)])
    client.force_login(members["reader"])
    response = client.get("/w/ws-main/jobs/run_a/metrics/csv/")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["key", "step", "value", "timestamp"] and len(rows) == 5001
    assert float(rows[4000][2]) == 0.123456789 * 3999


def test_series_of_another_workspace_are_404(workspace, owner, experiment, outsider, client):
    make_job(workspace, owner, experiment, "run_a")
    client.force_login(outsider)
    assert client.get("/w/ws-main/jobs/run_a/metrics/series/").status_code == 404
    assert client.get("/w/ws-main/jobs/run_a/metrics/csv/").status_code == 404


def test_compare_sends_single_values_and_downsampled_lines(workspace, members, experiment, client):
    for name, score in [("run_a", 0.7), ("run_b", 0.9)]:
        job = make_job(workspace, members["owner"], experiment, name)
        log(job, "auc", [score])
        log(job, "loss", [1.0 / (i + 1) for i in range(3000)])
    client.force_login(members["reader"])
    body = client.get("/w/ws-main/experiments/diabetes/compare/?run=run_a&run=run_b").content.decode()
    data = json.loads(body.split('id="compare-series" type="application/json">')[1].split("</script>")[0])
    assert data["keys"] == ["auc", "loss"]
    assert data["series"]["run_b"]["auc"] == [[0, 0.9, 1000]]
    assert len(data["series"]["run_a"]["loss"]) == 1000
