"""The MLflow API as a hostile member or a stray web page would use it: CSRF on cookie sessions,
writes only by the run's own job or its submitter, artifact paths that stay inside their owner,
nothing across workspaces, MLflow's error shape for bad input."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import Job, JobStatus
from tests.conftest import PASSWORD, job_token_client, token_client
from tests.factories import make_running_job
from tracking.artifacts import resolve, store_for_workspace
from tracking.auth import Caller

A = "/mlflow/api/2.0/mlflow-artifacts/artifacts/"


@pytest.fixture
def job(workspace, owner):
    return make_running_job(workspace, owner, "bold_owl_aaaaaa", experiment="sec")


def test_a_cross_site_text_plain_post_with_the_session_cookie_is_refused(job, owner):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=owner.username, password=PASSWORD)
    forged = browser.post(
        "/mlflow/api/2.0/mlflow/runs/update",
        '{"run_id": "bold_owl_aaaaaa", "run_name": "pwned"}',
        content_type="text/plain",
    )
    assert forged.status_code == 403 and "CSRF" in forged.json()["message"]
    job.refresh_from_db()
    assert job.display_name == ""
    browser.get("/login/")  # a page of Studio's own sets the token cookie
    token = browser.cookies["csrftoken"].value
    ok = browser.post(
        "/mlflow/api/2.0/mlflow/runs/update",
        {"run_id": job.name, "run_name": "renamed"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 200
    job.refresh_from_db()
    assert job.display_name == "renamed"


def test_artifacts_are_written_by_the_run_and_read_by_members_only(job, workspace, members, outsider):
    own = job_token_client(job)
    put = own.generic("PUT", A + f"ws-main/runs/{job.name}/artifacts/a/b.txt", b"hello", content_type="text/plain")
    assert put.status_code == 200, put.content
    reader = token_client(members["reader"])
    got = reader.get(A + f"ws-main/runs/{job.name}/artifacts/a/b.txt")
    assert got.status_code == 200 and b"".join(got.streaming_content if got.streaming else [got.content]) == b"hello"
    listing = reader.get(A, {"path": f"ws-main/runs/{job.name}/artifacts"}).json()
    assert listing == {"files": [{"path": "a", "is_dir": True}]}
    denied = reader.generic("PUT", A + f"ws-main/runs/{job.name}/artifacts/x.txt", b"x")
    assert denied.status_code == 403
    scientist = token_client(members["data_scientist"])
    assert scientist.generic("PUT", A + f"ws-main/runs/{job.name}/artifacts/x.txt", b"x").status_code == 403
    stranger = token_client(outsider)
    assert stranger.get(A + f"ws-main/runs/{job.name}/artifacts/a/b.txt").status_code == 404
    assert stranger.get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": job.name}).status_code == 404


def test_a_job_token_reaches_nothing_of_another_job_or_workspace(job, workspace, owner, outsider):
    other = Job.objects.create(
        workspace=workspace,
        name="other_job_aaaaaa",
        experiment=job.experiment,
        created_by=owner,
        status=JobStatus.RUNNING,
        command="x",
        environment_ref="e",
        compute_name="local",
    )
    own = job_token_client(job)
    assert own.generic("PUT", A + f"ws-main/runs/{other.name}/artifacts/x", b"x").status_code == 404
    assert own.get("/mlflow/api/2.0/mlflow/runs/get", {"run_id": other.name}).status_code == 403
    assert own.get(A + "ws-other/runs/anything/artifacts/x").status_code == 404
    created = own.post("/mlflow/api/2.0/mlflow/experiments/create", {"name": "mine"}, format="json")
    assert created.status_code == 403
    found = own.post("/mlflow/api/2.0/mlflow/runs/search", {"experiment_ids": [str(job.experiment_id)]}, format="json")
    assert [r["info"]["run_id"] for r in found.json()["runs"]] == [job.name]


@pytest.mark.parametrize(
    "path",
    [
        "ws-main/runs/bold_owl_aaaaaa/artifacts/../../other_job/artifacts/x",
        "ws-main/runs/bold_owl_aaaaaa/artifacts/%2e%2e/x",
        "ws-main/runs/bold_owl_aaaaaa/other/x",
        "ws-main/../etc/passwd",
    ],
)
def test_path_traversing_artifact_paths_are_refused(job, path):
    response = job_token_client(job).generic("PUT", A + path, b"x")
    assert response.status_code in (400, 404), response.content
    assert response.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")
    store = store_for_workspace(job.workspace)
    assert not [e for e in store.walk_files("") if e.name == "x"], "nothing was written"


def test_an_oversized_artifact_is_refused_and_not_kept(job, settings):
    settings.STUDIO_MLFLOW_MAX_ARTIFACT_BYTES = 1024
    response = job_token_client(job).generic("PUT", A + f"ws-main/runs/{job.name}/artifacts/big.bin", b"x" * 5000)
    assert response.status_code == 400 and "larger than 1024 bytes" in response.json()["message"]
    target = resolve(Caller(job=job), f"ws-main/runs/{job.name}/artifacts/big.bin", write=False)
    assert not target.store.exists(target.path)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"filter": "metrics.acc >>> 1"}, "Invalid comparator"),
        ({"filter": "nonsense.x = 1"}, "Invalid"),
        ({"filter": "metrics.acc = 'abc'"}, ""),
        ({"page_token": "!!notbase64"}, "page token"),
        ({"max_results": -1}, "max_results"),
        ({"order_by": ["metrics.acc SIDEWAYS"]}, ""),
    ],
)
def test_bad_search_input_gets_mlflows_error_shape(job, owner, body, message):
    response = token_client(owner).post(
        "/mlflow/api/2.0/mlflow/runs/search", {"experiment_ids": [str(job.experiment_id)], **body}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["message"]


def _search_queries(owner, experiment) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = token_client(owner)
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            "/mlflow/api/2.0/mlflow/runs/search",
            {
                "experiment_ids": [str(experiment.pk)],
                "filter": "metrics.m >= 0 and params.p = '1'",
                "order_by": ["metrics.m DESC"],
            },
            format="json",
        )
    assert response.status_code == 200
    return len(queries), len(response.json()["runs"])


def test_search_runs_costs_the_same_queries_for_3_or_30_runs(job, owner):
    from tracking import services

    def add(count, start):
        for i in range(start, start + count):
            run = Job.objects.create(
                workspace=job.workspace,
                name=f"run_{i}",
                experiment=job.experiment,
                created_by=owner,
                status=JobStatus.RUNNING,
                command="x",
                environment_ref="e",
                compute_name="local",
            )
            services.do_log_batch(
                run,
                [{"key": "m", "value": i, "timestamp": 1}],
                [{"key": "p", "value": "1"}],
                [{"key": "t", "value": "x"}],
            )

    add(3, 0)
    few, found_few = _search_queries(owner, job.experiment)
    add(27, 3)
    many, found_many = _search_queries(owner, job.experiment)
    assert (found_few, found_many) == (3, 30)
    assert few == many


def test_an_endpoint_studio_lacks_answers_in_mlflows_error_shape(owner):
    response = token_client(owner).post("/mlflow/api/2.0/mlflow/runs/delete", {"run_id": "x"}, format="json")
    assert response.status_code == 404 and response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_multipart_uploads_need_write_access_and_a_genuine_part_url(job, members):
    reader = token_client(members["reader"])
    denied = reader.post(
        f"/mlflow/api/2.0/mlflow-artifacts/mpu/create/ws-main/runs/{job.name}/artifacts",
        {"path": "/tmp/w.bin", "num_parts": 2},
        format="json",
    )
    assert denied.status_code == 403
    created = job_token_client(job).post(
        f"/mlflow/api/2.0/mlflow-artifacts/mpu/create/ws-main/runs/{job.name}/artifacts",
        {"path": "/tmp/w.bin", "num_parts": 2},
        format="json",
    )
    url = created.json()["credentials"][0]["url"]
    forged = Client().generic("PUT", url.split("testserver", 1)[1][:-3] + "xyz", b"x")
    assert forged.status_code == 403 and forged.json()["error_code"] == "PERMISSION_DENIED"
    too_many = job_token_client(job).post(
        f"/mlflow/api/2.0/mlflow-artifacts/mpu/create/ws-main/runs/{job.name}/artifacts",
        {"path": "/tmp/w.bin", "num_parts": 10**9},
        format="json",
    )
    assert too_many.status_code == 400
