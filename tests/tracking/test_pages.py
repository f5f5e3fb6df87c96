"""The job page's artifact browser: folders, previews, images, downloads, zip; members only."""

from __future__ import annotations

import io
import zipfile

import pytest

from jobs.models import Experiment, Job, JobStatus
from tracking.artifacts import store_for_workspace

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def job(workspace, owner):
    experiment = Experiment.objects.create(workspace=workspace, name="pages")
    job = Job.objects.create(
        workspace=workspace,
        name="keen_kite_aaaaaa",
        experiment=experiment,
        created_by=owner,
        status=JobStatus.COMPLETED,
        command="x",
        environment_ref="e",
        compute_name="local",
    )
    store = store_for_workspace(workspace)
    root = f"runs/{job.name}/artifacts/"
    for path, data in {
        "meta/classes.json": b'{"classes":[0,1,2]}',
        "table.csv": b"a,b\n1,<b>2</b>\n",
        "plots/curve.png": PNG,
        "notes.txt": b"<script>alert(1)</script>",
    }.items():
        store.write_stream(root + path, [data])
    return job


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_outputs_tab_browses_and_previews_a_runs_artifacts(client, job, owner):
    client.force_login(owner)
    base = f"/w/ws-main/jobs/{job.name}/artifacts/"
    assert 'hx-get="' + base + '"' in client.get(f"/w/ws-main/jobs/{job.name}/outputs/").content.decode()
    root = client.get(base).content.decode()
    assert "meta/" in root and "plots/" in root and "notes.txt" in root
    json_preview = client.get(base, {"path": "meta", "file": "meta/classes.json"}).content.decode()
    assert "&quot;classes&quot;: [" in json_preview
    text = client.get(base, {"file": "notes.txt"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert" not in text
    table = client.get(base, {"file": "table.csv"}).content.decode()
    assert "<th>a</th>" in table and "&lt;b&gt;2&lt;/b&gt;" in table
    images = client.get(base, {"view": "images"}).content.decode()
    assert f'src="{base}file/plots/curve.png"' in images
    png = client.get(base + "file/plots/curve.png")
    assert png["Content-Type"] == "image/png" and png["X-Content-Type-Options"] == "nosniff"
    assert _body(png) == PNG and "inline" in png["Content-Disposition"]
    assert "attachment" in client.get(base + "file/notes.txt")["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(_body(client.get(base + "zip/"))))
    assert sorted(archive.namelist()) == ["meta/classes.json", "notes.txt", "plots/curve.png", "table.csv"]


def test_artifact_pages_are_for_members_and_stay_inside_the_run(client, job, outsider, members):
    client.force_login(outsider)
    assert client.get(f"/w/ws-main/jobs/{job.name}/artifacts/").status_code == 404
    client.force_login(members["reader"])
    base = f"/w/ws-main/jobs/{job.name}/artifacts/"
    assert client.get(base).status_code == 200
    assert client.get(base + "file/../../other/x").status_code == 404
    assert client.get(base + "file/%2e%2e/%2e%2e/x").status_code == 404


def test_deleting_a_job_removes_its_mlflow_artifacts(job, owner, transactional_db):
    from jobs.services import do_delete_job

    store = store_for_workspace(job.workspace)
    assert store.isdir(f"runs/{job.name}")
    do_delete_job(job, actor=owner)
    assert not store.exists(f"runs/{job.name}")
