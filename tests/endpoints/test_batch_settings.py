"""What a batch deployment's settings promise, on real child jobs (the real runner, venv backend):
error_threshold fails or completes the job by failed files (a raising mini-batch, or one whose
run() returned fewer results than files, as Azure counts them); summary_only writes no rows and
gathers what the script wrote itself; retry_settings stops a run() past its timeout and retries it
max_retries times. Bad values of each setting are refused at create with a field message."""

from __future__ import annotations

import csv
import io

import pytest

from endpoints.batch.models import BatchRun, MiniBatch, MiniBatchState
from jobs.models import Job, JobStatus
from tests.conftest import token_client
from tests.endpoints.conftest import scorer_parts
from tests.endpoints.test_batch import FILES, _data_asset
from tests.jobs.conftest import wait_status

# Behaviours switched by the deployment's environment variables (file names, space-separated).
DRIVER = """
import csv, os, time

def init():
    pass

def run(mini_batch):
    names = [os.path.basename(p) for p in mini_batch]
    attempt = os.environ["STUDIO_BATCH_ATTEMPT"]
    if set(names) & set(os.environ.get("BROKEN", "").split()):
        raise ValueError("this file cannot be scored")
    if set(names) & set(os.environ.get("SLOW_ONCE", "").split()) and attempt == "1":
        try:
            time.sleep(120)
        except Exception:  # an ordinary handler must not swallow the timeout
            time.sleep(120)
    if set(names) & set(os.environ.get("STUCK", "").split()):
        while True:  # swallows everything, the timeout's signal too: only the watchdog ends it
            try:
                time.sleep(120)
            except BaseException:
                pass
    own = os.environ.get("OWN_OUTPUT") and os.environ["AZUREML_BI_OUTPUT_PATH"]
    rows = []
    for path in mini_batch:
        name = os.path.basename(path)
        if name in os.environ.get("SKIP", "").split():
            continue
        with open(path) as f:
            doubled = [(name, r["x"], float(r["x"]) * 2) for r in csv.DictReader(f)]
        if own:
            os.makedirs(os.path.join(own, "doubled"), exist_ok=True)
            with open(os.path.join(own, "doubled", name), "w", newline="") as out:
                csv.writer(out).writerows(doubled)
            rows.append(path)  # one element per file scored, as Azure counts them
        else:
            rows.extend({"file": n, "x": x, "y": y} for n, x, y in doubled)
    if own:
        os.symlink("/etc/hostname", os.path.join(own, "leak.txt"))
        os.symlink("/etc", os.path.join(own, "etc"))
    return rows
"""


@pytest.fixture
def batch_api(workspace, owner):
    """(API client, endpoint base URL, a deploy(settings, env) function) for the endpoint `settings-batch`."""
    api = token_client(owner)
    common = scorer_parts(workspace, owner, DRIVER)
    root = f"/api/v1/workspaces/{workspace.name}/batch-endpoints"
    assert api.post(f"{root}/", {"name": "settings-batch"}, format="json").status_code == 201
    base = f"{root}/settings-batch"

    def deploy(settings=None, env=None, instances=1, name="blue"):
        body = {"name": name, **common, "resources": {"instance_count": instances}, "settings": settings or {}}
        return api.post(f"{base}/deployments/", {**body, "environment_variables": env or {}}, format="json")

    return api, base, deploy


def _invoke(api, base, workspace, owner, asset="four", deployment=None) -> Job:
    body = {"input": _data_asset(workspace, owner, asset, FILES)}
    if deployment:
        body["deployment_name"] = deployment
    invoked = api.post(f"{base}/invoke/", body, format="json")
    assert invoked.status_code == 201, invoked.content
    return wait_status(Job.objects.get(name=invoked.json()["name"]), (JobStatus.COMPLETED, JobStatus.FAILED), 240)


def _predictions(api, workspace, job) -> list[list[str]]:
    body = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/score/predictions.csv")
    assert body.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(body.streaming_content).decode())))


def _message(job: Job) -> str:
    return job.events.order_by("-pk").values_list("message", flat=True).first()


@pytest.mark.parametrize("threshold", [1, 2, -1])
def test_error_threshold_counts_failed_files_and_fails_the_job_only_past_it(
    node, workspace, owner, batch_api, threshold
):
    api, base, deploy = batch_api
    # One file a mini-batch, one at a time: a.csv scores, b.csv raises, c.csv is returned no result
    # for (Azure counts it failed), then d.csv, unless the two failures passed the threshold.
    settings = {"mini_batch_size": 1, "error_threshold": threshold, "retry_settings": {"max_retries": 0}}
    assert deploy(settings, {"BROKEN": "b.csv", "SKIP": "c.csv"}).status_code == 201
    job = _invoke(api, base, workspace, owner)
    run = BatchRun.objects.get(job=job)
    assert run.failed_files == 2
    states = list(MiniBatch.objects.filter(run=run).order_by("index").values_list("state", "attempts"))
    if threshold == 1:
        assert job.status == JobStatus.FAILED
        assert job.failure_reason.startswith("2 files failed, more than the error_threshold of 1"), job.failure_reason
        assert "2 of 4 mini-batches scored (2 of 4 files)" in job.failure_reason
        # d.csv never started: the job stopped at the threshold.
        assert states[-1] == (MiniBatchState.PENDING, 0)
        return
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    tolerated = "any number" if threshold == -1 else "up to 2"
    assert _message(job) == (
        "3 of 4 mini-batches scored (2 of 4 files), 4 rows into score/predictions.csv. "
        f"2 files failed (error_threshold: {tolerated} tolerated)."
    )
    assert states == [
        (MiniBatchState.SUCCEEDED, 1),
        (MiniBatchState.FAILED, 1),
        (MiniBatchState.SUCCEEDED, 1),
        (MiniBatchState.SUCCEEDED, 1),
    ]
    failed = MiniBatch.objects.get(run=run, index=1)
    assert "ValueError: this file cannot be scored" in failed.detail
    assert MiniBatch.objects.get(run=run, index=2).detail.startswith("run() returned 0 results for 1 files")
    rows = _predictions(api, workspace, job)
    assert [r[0] for r in rows] == ["file", "a.csv", "a.csv", "d.csv", "d.csv"]


def test_summary_only_writes_no_rows_and_keeps_what_the_script_wrote(node, workspace, owner, batch_api, client):
    api, base, deploy = batch_api
    settings = {"mini_batch_size": 2, "output_action": "summary_only"}
    assert deploy(settings, {"OWN_OUTPUT": "1"}, instances=2).status_code == 201
    job = _invoke(api, base, workspace, owner)
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    assert _message(job) == (
        "2 of 2 mini-batches scored (4 of 4 files); "
        "summary_only: no predictions.csv, 4 files the script wrote in score/."
    )
    # The job's page says so too: a Completed job without a predictions.csv explains itself.
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/batch-jobs/{job.name}/")
    assert b"summary_only: no predictions.csv, 4 files the script wrote in score/." in page.content
    tree = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/").json()["files"]
    scored = sorted(f["path"] for f in tree if f.get("output_name") == "score")
    # No predictions.csv, no driver part files, and the links the script left are not followed.
    assert scored == [f"score/doubled/{name}" for name in sorted(FILES)]
    body = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/score/doubled/c.csv")
    rows = list(csv.reader(io.StringIO(b"".join(body.streaming_content).decode())))
    assert rows == [["c.csv", "3", "6.0"], ["c.csv", "13", "26.0"]]


def test_a_mini_batch_past_its_timeout_is_stopped_and_retried_then_counts_as_failed(node, workspace, owner, batch_api):
    api, base, deploy = batch_api
    # [a, b] sleeps past the timeout on its first attempt only; [c, d] never ends by itself.
    settings = {"mini_batch_size": 2, "retry_settings": {"max_retries": 1, "timeout": 2}}
    assert deploy(settings, {"SLOW_ONCE": "a.csv", "STUCK": "c.csv"}, instances=2).status_code == 201
    job = _invoke(api, base, workspace, owner)
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    batches = list(MiniBatch.objects.filter(run__job=job).order_by("index"))
    assert [(b.state, b.attempts) for b in batches] == [(MiniBatchState.SUCCEEDED, 2), (MiniBatchState.FAILED, 2)]
    assert batches[1].detail.startswith("Failed after 2 attempts")
    assert "run() did not finish within 2 s (retry_settings.timeout)" in batches[1].detail
    children = Job.objects.filter(parent=job)
    assert sorted(children.values_list("status", flat=True)) == sorted(
        [JobStatus.FAILED, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.FAILED]
    )
    # Stopped by the driver, not by the job's own (much longer) limit.
    assert not children.filter(failure_kind="timed_out").exists()
    assert BatchRun.objects.get(job=job).failed_files == 2
    assert [r[0] for r in _predictions(api, workspace, job)] == ["file", "a.csv", "a.csv", "b.csv", "b.csv"]
    assert "2 files failed (error_threshold: any number tolerated)." in _message(job)


BAD_SETTINGS = [
    ({"error_threshold": -2}, "settings.error_threshold", "-1 (ignore failures)"),
    ({"error_threshold": "3"}, "settings.error_threshold", "not '3'"),
    ({"error_threshold": True}, "settings.error_threshold", "not True"),
    ({"error_threshold": 1.5}, "settings.error_threshold", "not 1.5"),
    ({"error_threshold": 2**31}, "settings.error_threshold", "up to 2147483647"),
    ({"output_action": "append_rows"}, "settings.output_action", "append_row or summary_only"),
    ({"output_action": ["summary_only"]}, "settings.output_action", "append_row or summary_only"),
    ({"output_file_name": ".hidden/x.csv"}, "settings.output_file_name", "a plain file name"),
    ({"output_file_name": 7}, "settings.output_file_name", "a plain file name"),
    ({"retry_settings": [3, 30]}, "settings.retry_settings", "maps max_retries and timeout"),
    ({"retry_settings": {"max_retries": -1}}, "settings.retry_settings.max_retries", "from 0 to 10, not -1"),
    ({"retry_settings": {"max_retries": 11}}, "settings.retry_settings.max_retries", "from 0 to 10"),
    ({"retry_settings": {"max_retries": "3"}}, "settings.retry_settings.max_retries", "not '3'"),
    ({"retry_settings": {"timeout": 0}}, "settings.retry_settings.timeout", "from 1 to 86400, not 0"),
    ({"retry_settings": {"timeout": 86401}}, "settings.retry_settings.timeout", "from 1 to 86400"),
    ({"retry_settings": {"timeout": 2.5}}, "settings.retry_settings.timeout", "not 2.5"),
    ({"retry_settings": {"timout": 30}}, "settings.retry_settings", "not timout"),
    ({"mini_batch_size": False}, "settings.mini_batch_size", "not False"),
    ({"max_concurrency_per_instance": 17}, "settings.max_concurrency_per_instance", "from 1 to 16"),
]


def test_bad_settings_are_refused_at_create_and_update_with_a_field_message(workspace, owner, batch_api, no_dispatch):
    api, base, deploy = batch_api
    for settings, field, fragment in BAD_SETTINGS:
        response = deploy(settings)
        assert response.status_code == 400, (settings, response.content)
        assert fragment in response.json()["errors"].get(field, [""])[0], (settings, response.json())
    # The older, flat schema is checked the same way.
    flat = api.post(f"{base}/deployments/", {"name": "blue", "error_threshold": "many"}, format="json")
    assert flat.status_code == 400
    assert not MiniBatch.objects.exists()
    assert deploy({"error_threshold": 0, "retry_settings": {"max_retries": 0, "timeout": 1}}).status_code == 201
    for settings, field, fragment in BAD_SETTINGS[:4]:
        changed = api.patch(f"{base}/deployments/blue/", {"settings": settings}, format="json")
        assert changed.status_code == 400 and fragment in changed.json()["errors"][field][0], changed.content
    shown = api.get(f"{base}/deployments/blue/").json()
    assert shown["settings"]["error_threshold"] == 0
    assert shown["settings"]["retry_settings"] == {"max_retries": 0, "timeout": 1}
