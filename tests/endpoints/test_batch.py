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
from tests.jobs.conftest import make_environment, make_zip, wait_status
from tests.sweeps.test_real_sweeps import _max_overlap

DRIVER = """
import csv, os

factor = None

def init():
    global factor
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "factor.txt")) as f:
        factor = float(f.read())

def run(mini_batch):
    flaky = os.environ.get("FAIL_ONCE", "")
    if flaky and os.environ["STUDIO_BATCH_ATTEMPT"] == "1" and any(p.endswith(flaky) for p in mini_batch):
        raise RuntimeError("the storage hiccuped")
    rows = []
    for path in mini_batch:
        with open(path) as f:
            for record in csv.DictReader(f):
                rows.append({"file": os.path.basename(path), "x": record["x"], "y": float(record["x"]) * factor})
    return rows
"""

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
    """A custom model (a factor), a driver uploaded as code, an environment; returns the API
    client and the deployment body's common part."""
    from registry import services as registry

    sink = registry.upload_sink_for(workspace)
    sink.open("factor.txt").write(b"2")
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="doubler")
    make_environment(workspace, owner, "plain")
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}"
    code = api.post(f"{base}/codes/", {"file": make_zip({"score.py": DRIVER})}, format="multipart").json()["id"]
    assert api.post(f"{base}/batch-endpoints/", {"name": "doubler-batch"}, format="json").status_code == 201
    return api, {
        "model": "azureml:doubler:1",
        "code_configuration": {"code": code, "scoring_script": "score.py"},
        "environment": "azureml:plain:1",
        "compute": "azureml:local",
    }


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
