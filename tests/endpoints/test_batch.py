"""Batch endpoints: a real batch deployment scores a folder in mini-batches (child command jobs on
the real runner), a failing mini-batch is retried, and bad deployments and invocations are clear
400s."""

from __future__ import annotations

import csv
import io

import pytest

from endpoints.batch.models import MiniBatch, MiniBatchState
from jobs.models import Job, JobStatus
from tests.conftest import token_client
from tests.endpoints.conftest import scorer_parts
from tests.jobs.conftest import make_zip, wait_status
from tests.sweeps.test_real_sweeps import _max_overlap

FILES = {name: f"x\n{i}\n{i + 10}\n" for i, name in enumerate(["a.csv", "b.csv", "c.csv", "d.csv"], 1)}


def _data_asset(workspace, owner, name: str, files: dict[str, str]) -> str:
    from datastores.services import data as data_services
    from datastores.services.data import get_datastore
    from datastores.storage import store_for

    store = store_for(get_datastore(workspace, "workspaceblobstore"))
    for rel, text in files.items():
        store.write_stream(f"batch/{name}/{rel}", io.BytesIO(text.encode()))
    data_services.do_create_data_version(
        workspace,
        actor=owner,
        name=name,
        type="uri_folder",
        path=f"azureml://datastores/workspaceblobstore/paths/batch/{name}",
    )
    return f"azureml:{name}:1"


@pytest.fixture
def scorer(workspace, owner):
    """The API client and the deployment body's common part; the endpoint doubler-batch exists."""
    api = token_client(owner)
    common = scorer_parts(workspace, owner)
    assert (
        api.post(
            f"/api/v1/workspaces/{workspace.name}/batch-endpoints/", {"name": "doubler-batch"}, format="json"
        ).status_code
        == 201
    )
    return api, common


def test_a_batch_deployment_scores_4_files_in_mini_batches_of_2_on_two_instances_and_retries_a_failure(
    node, workspace, owner, scorer
):
    api, common = scorer
    base = f"/api/v1/workspaces/{workspace.name}/batch-endpoints/doubler-batch"
    created = api.post(
        f"{base}/deployments/",
        {
            "name": "blue",
            **common,
            "resources": {"instance_count": 2},
            "settings": {
                "mini_batch_size": 2,
                "max_concurrency_per_instance": 1,
                "output_action": "append_row",
                "output_file_name": "predictions.csv",
                "retry_settings": {"max_retries": 2, "timeout": 60},
                "error_threshold": -1,
            },
            "environment_variables": {"FAIL_ONCE": "c.csv"},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert api.get(base + "/").json()["defaults"] == {"deployment_name": "blue"}

    invoked = api.post(f"{base}/invoke/", {"input": _data_asset(workspace, owner, "four", FILES)}, format="json")
    assert invoked.status_code == 201, invoked.content
    assert invoked.json()["progress"]["total"] == 2
    job = wait_status(Job.objects.get(name=invoked.json()["name"]), (JobStatus.COMPLETED, JobStatus.FAILED), 240)
    children = list(Job.objects.filter(parent=job).order_by("pk"))
    assert job.status == JobStatus.COMPLETED, (
        job.failure_reason,
        [(c.name, c.status, c.failure_reason) for c in children],
    )

    # Two mini-batches of two files; the one holding c.csv failed once and was retried.
    batches = list(MiniBatch.objects.filter(run__job=job).order_by("index"))
    assert [b.files for b in batches] == [["a.csv", "b.csv"], ["c.csv", "d.csv"]]
    assert all(b.state == MiniBatchState.SUCCEEDED for b in batches)
    assert [b.attempts for b in batches] == [1, 2]
    assert sorted(c.status for c in children) == [JobStatus.COMPLETED, JobStatus.COMPLETED, JobStatus.FAILED]
    assert _max_overlap(children) <= 2

    # One predictions.csv in the job's `score` output, rows in file order, as the CLI downloads it.
    tree = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/").json()["files"]
    scored = [f for f in tree if f.get("output_name") == "score"]
    assert [f["path"] for f in scored] == ["score/predictions.csv"]
    body = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/score/predictions.csv")
    assert body.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(body.streaming_content).decode())))
    assert rows[0] == ["file", "x", "y"]
    assert [(r[0], r[1], float(r[2])) for r in rows[1:]] == [
        (name, x, float(x) * 2) for name in FILES for x in FILES[name].split()[1:]
    ]
    progress = api.get(f"{base}/jobs/").json()[0]["progress"]
    assert progress["done"] == progress["total"] == 2 and progress["retries"] == 1


def test_bad_deployments_and_invocations_are_clear_400s(workspace, owner, scorer, no_dispatch):
    api, common = scorer
    base = f"/api/v1/workspaces/{workspace.name}/batch-endpoints/doubler-batch"
    code = api.post(
        f"/api/v1/workspaces/{workspace.name}/codes/",
        {"file": make_zip({"score.py": "def init():\n    pass\n", "broken.py": "def run(:\n"})},
        format="multipart",
    ).json()["id"]

    def deploy(**change):
        return api.post(f"{base}/deployments/", {"name": "blue", **common, **change}, format="json")

    no_run = deploy(code_configuration={"code": code, "scoring_script": "score.py"})
    assert no_run.status_code == 400 and "has no run()" in no_run.json()["errors"]["code_configuration"][0]
    broken = deploy(code_configuration={"code": code, "scoring_script": "broken.py"})
    assert broken.status_code == 400 and "broken.py, line 1" in broken.json()["errors"]["code_configuration"][0]
    zero = deploy(settings={"mini_batch_size": 0})
    assert zero.status_code == 400 and "from 1 to" in zero.json()["errors"]["settings.mini_batch_size"][0]
    text = deploy(settings={"mini_batch_size": "ten"})
    assert text.status_code == 400 and "settings.mini_batch_size" in text.json()["errors"]
    action = deploy(settings={"output_action": "append_rows"})
    assert (
        action.status_code == 400
        and "append_row or summary_only" in action.json()["errors"]["settings.output_action"][0]
    )
    escape = deploy(settings={"output_file_name": "../../etc/passwd"})
    assert escape.status_code == 400 and "settings.output_file_name" in escape.json()["errors"]
    no_compute = deploy(compute="azureml:nowhere")
    assert no_compute.status_code == 400 and "nowhere" in no_compute.json()["errors"]["compute"][0]
    custom_no_driver = deploy(code_configuration=None)
    assert (
        custom_no_driver.status_code == 400
        and "only an mlflow_model" in custom_no_driver.json()["errors"]["code_configuration"][0]
    )

    # Nothing deployed yet: invoking says so.
    nothing = api.post(f"{base}/invoke/", {"input": "azureml:four:1"}, format="json")
    assert nothing.status_code == 400 and "no deployment" in nothing.json()["errors"]["deployment_name"][0]
    assert deploy(settings={"mini_batch_size": 1}, resources={"instance_count": 2}).status_code == 201
    missing = api.post(f"{base}/invoke/", {"input": "azureml:missing:1"}, format="json")
    assert missing.status_code == 400 and "missing" in missing.json()["errors"]["input"][0]
    assert api.post(f"{base}/invoke/", {}, format="json").json()["errors"]["input"][0].startswith("Give the data")
    empty = _data_asset(workspace, owner, "six", {})
    nothing_there = api.post(f"{base}/invoke/", {"input": empty}, format="json")
    assert nothing_there.status_code == 400 and "no files" in nothing_there.json()["errors"]["input"][0]
    outside = api.post(
        f"{base}/invoke/", {"input": "azureml://datastores/workspaceblobstore/paths/../../etc"}, format="json"
    )
    assert outside.status_code == 400 and "input" in outside.json()["errors"]
    assert Job.objects.count() == 0


def test_no_more_mini_batches_run_at_once_than_instances_times_concurrency(
    workspace, owner, members, scorer, no_dispatch
):
    from jobs.services import do_cancel_job

    api, common = scorer
    base = f"/api/v1/workspaces/{workspace.name}/batch-endpoints/doubler-batch"
    body = {"name": "blue", **common, "resources": {"instance_count": 2}, "settings": {"mini_batch_size": 1}}
    assert api.post(f"{base}/deployments/", body, format="json").status_code == 201
    files = {f"{n}.csv": "x\n1\n" for n in "abcdef"}
    data = _data_asset(workspace, owner, "six", files)

    reader = token_client(members["reader"])
    assert reader.post(f"{base}/invoke/", {"input": data}, format="json").status_code == 403
    assert reader.get(f"{base}/jobs/").status_code == 200

    invoked = api.post(f"{base}/invoke/", {"input": data}, format="json")
    assert invoked.status_code == 201, invoked.content
    assert invoked.json()["progress"] == {
        "total": 6,
        "done": 0,
        "succeeded": 0,
        "failed": 0,
        "running": 2,
        "pending": 4,
        "retries": 0,
    }
    job = Job.objects.get(name=invoked.json()["name"])
    assert Job.objects.filter(parent=job).count() == 2  # 2 instances x 1 mini-batch each

    # Canceling the batch job cancels its mini-batches and starts no more.
    do_cancel_job(job, actor=owner)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    assert set(Job.objects.filter(parent=job).values_list("status", flat=True)) == {JobStatus.CANCELED}
    assert Job.objects.filter(parent=job).count() == 2


def test_batch_endpoints_of_another_workspace_are_not_found(workspace, owner, outsider, scorer):
    api = token_client(outsider)
    assert api.get(f"/api/v1/workspaces/{workspace.name}/batch-endpoints/doubler-batch/").status_code in (403, 404)
    from studio.services import do_create_workspace

    other = do_create_workspace(name="elsewhere", actor=outsider)
    assert api.get(f"/api/v1/workspaces/{other.name}/batch-endpoints/doubler-batch/").status_code == 404
    assert (
        api.post(
            f"/api/v1/workspaces/{other.name}/batch-endpoints/doubler-batch/invoke/", {}, format="json"
        ).status_code
        == 404
    )
    # Another workspace's model and code ids mean nothing here.
    assert (
        api.post(f"/api/v1/workspaces/{other.name}/batch-endpoints/", {"name": "mine"}, format="json").status_code
        == 201
    )
    _, common = scorer
    stolen = api.post(
        f"/api/v1/workspaces/{other.name}/batch-endpoints/mine/deployments/",
        {"name": "blue", **common, "environment": "azureml:missing:1"},
        format="json",
    )
    assert stolen.status_code == 400 and "model" in stolen.json()["errors"]


@pytest.mark.docker
def test_a_batch_deployment_on_a_docker_target_scores_in_containers_into_one_predictions_csv(
    node, workspace, owner, scorer, docker_target
):
    api, common = scorer
    base = f"/api/v1/workspaces/{workspace.name}/batch-endpoints/doubler-batch"
    body = {
        "name": "blue",
        **common,
        "compute": f"azureml:{docker_target.name}",
        "resources": {"instance_count": 2},
        "settings": {"mini_batch_size": 2},
    }
    assert api.post(f"{base}/deployments/", body, format="json").status_code == 201
    invoked = api.post(f"{base}/invoke/", {"input": _data_asset(workspace, owner, "four", FILES)}, format="json")
    assert invoked.status_code == 201, invoked.content
    job = wait_status(Job.objects.get(name=invoked.json()["name"]), (JobStatus.COMPLETED, JobStatus.FAILED), 400)
    children = list(Job.objects.filter(parent=job).order_by("pk"))
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, [(c.status, c.failure_reason) for c in children])
    # Each mini-batch ran in a container of the docker target.
    assert [(c.compute.name, c.backend or c.compute.backend) for c in children] == [("dock", "docker")] * 2
    assert all(c.build_info.get("image") for c in children)
    batches = list(MiniBatch.objects.filter(run__job=job).order_by("index"))
    assert [(b.files, b.state) for b in batches] == [
        (["a.csv", "b.csv"], MiniBatchState.SUCCEEDED),
        (["c.csv", "d.csv"], MiniBatchState.SUCCEEDED),
    ]
    body = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/score/predictions.csv")
    rows = list(csv.reader(io.StringIO(b"".join(body.streaming_content).decode())))
    assert rows[0] == ["file", "x", "y"]
    assert [(r[0], r[1], float(r[2])) for r in rows[1:]] == [
        (name, x, float(x) * 2) for name in FILES for x in FILES[name].split()[1:]
    ]
