"""A member cannot fill the disk of a local store: uploads, model zips and MLflow artifacts that
would leave less than STUDIO_STORAGE_RESERVE free are refused with a message saying so, keep
nothing half-written and make no version; smaller writes still go through.

The reserve is set to what is free minus a small margin, so no test fills a disk. As root (CI)
the built-in datastores live on a private tmpfs, where nothing else changes what is free while a
test runs; elsewhere on the test data dir's file system, with a wider margin.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from urllib3 import encode_multipart_formdata

from datastores.models import Datastore, DataVersion
from datastores.reserve import free_bytes
from datastores.storage import store_for
from jobs.models import CodeSnapshot
from registry.models import ModelVersion
from tests.conftest import job_token_client, token_client
from tests.factories import make_running_job
from tracking.artifacts import store_for_workspace

MiB = 2**20
A = "/mlflow/api/2.0/mlflow-artifacts/artifacts/"


@pytest.fixture
def tight(settings, tmp_path):
    """The built-in datastores on a file system whose free space less `margin` is the reserve:
    writing more than `margin` bytes is refused. Returns the margin."""
    root = tmp_path / "builtin"
    root.mkdir()
    margin = 64 * MiB
    mounted = os.geteuid() == 0 and _mount_tmpfs(root)
    if mounted:
        margin = 16 * MiB
    settings.STUDIO_DATASTORES_ROOT = root
    settings.STUDIO_BUILTIN_STORE = ""
    settings.STUDIO_STORAGE_RESERVE = free_bytes(str(root)) - margin
    yield margin
    if mounted:
        subprocess.run(["umount", "-l", str(root)], check=False)


def _mount_tmpfs(point: Path) -> bool:
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(point)], check=False).returncode == 0


def big(margin: int) -> bytes:
    return os.urandom(2 * margin + 8 * MiB)  # random: stored as is, whatever the file system


def files_in(workspace, name: str) -> list[str]:
    store = store_for(Datastore.objects.get(workspace=workspace, name=name))
    return [e.path for e in store.walk_files("")]


def refused(message: str) -> None:
    assert message.startswith("Not enough free disk space on the storage of "), message
    assert "free, and Studio keeps" in message and "free for running jobs" in message, message
    assert "Ask an administrator to free space." in message


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_a_data_upload_through_the_api_is_refused_below_the_reserve_and_keeps_nothing(workspace, owner, tight):
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}/data/{{}}/versions/"
    body, ctype = encode_multipart_formdata([("type", "uri_file"), ("file", ("big.bin", big(tight)))])
    response = api.generic("POST", base.format("huge"), body, content_type=ctype)
    assert response.status_code == 507, response.content
    refused(response.json()["detail"].removeprefix("file: "))
    assert "workspaceblobstore" in response.json()["detail"]
    assert not DataVersion.objects.exists()
    assert files_in(workspace, "workspaceblobstore") == [], "the half-written file is removed"

    body, ctype = encode_multipart_formdata([("type", "uri_file"), ("file", ("small.csv", b"a,b\n1,2\n" * 1000))])
    ok = api.generic("POST", base.format("small"), body, content_type=ctype)
    assert ok.status_code == 201, ok.content
    assert DataVersion.objects.get().size_bytes == 8000


def test_the_data_page_shows_the_refusal_in_its_form(workspace, owner_client, tight):
    fields = [("name", "huge"), ("type", "uri_file"), ("source", "upload")]
    body, ctype = encode_multipart_formdata([*fields, ("file", ("big.bin", big(tight), "application/octet-stream"))])
    scripted = owner_client.generic("PUT", f"/w/{workspace.name}/data/new/", body, content_type=ctype)
    assert scripted.status_code == 400
    assert "Not enough free disk space on the storage of workspaceblobstore" in scripted.json()["html"]
    # Without JavaScript: a plain form POST renders the page with the message.
    plain = owner_client.post(
        f"/w/{workspace.name}/data/new/",
        {"name": "huge", "type": "uri_file", "source": "upload", "file": SimpleUploadedFile("big.bin", big(tight))},
    )
    assert plain.status_code == 400
    assert "Studio keeps" in plain.content.decode() and "Ask an administrator to free space." in plain.content.decode()
    assert not DataVersion.objects.exists()
    assert files_in(workspace, "workspaceblobstore") == []

    body, ctype = encode_multipart_formdata(
        [*fields[1:], ("name", "small"), ("file", ("a.csv", b"a\n1\n", "text/csv"))]
    )
    ok = owner_client.generic("PUT", f"/w/{workspace.name}/data/new/", body, content_type=ctype)
    assert ok.status_code == 200, ok.content
    assert DataVersion.objects.filter(asset__name="small").exists()


def test_a_code_upload_is_refused_below_the_reserve_and_leaves_no_half_snapshot(workspace, owner, tight, settings):
    codes = Path(django_settings.STUDIO_DATASTORES_ROOT) / "codes"  # on the same (private) file system
    settings.STUDIO_CODE_DIR = codes
    api = token_client(owner)
    url = f"/api/v1/workspaces/{workspace.name}/codes/"
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("train.py", "print('hi')\n")
        archive.writestr("data/blob.bin", big(tight))
    payload.seek(0)
    payload.name = "code.zip"
    response = api.post(url, {"file": payload}, format="multipart")
    assert response.status_code == 507, response.content
    refused(response.json()["errors"]["code"][0])
    assert "the storage of code snapshots" in response.json()["errors"]["code"][0]
    assert not CodeSnapshot.objects.exists()
    assert [p.name for p in codes.iterdir()] == [], "the half-written upload folder is removed"

    small = io.BytesIO()
    with zipfile.ZipFile(small, "w") as archive:
        archive.writestr("train.py", "print('hi')\n")
    small.seek(0)
    small.name = "code.zip"
    assert api.post(url, {"file": small}, format="multipart").status_code == 201


def test_a_model_upload_is_refused_below_the_reserve_and_a_small_one_works(workspace, owner, tight):
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}/models/{{}}/versions/"
    body, ctype = encode_multipart_formdata([("type", "custom_model"), ("file", ("model/w.bin", big(tight)))])
    response = api.generic("POST", base.format("huge"), body, content_type=ctype)
    assert response.status_code == 507, response.content
    refused(response.json()["errors"]["file"][0])
    assert "workspaceartifactstore" in response.json()["detail"]
    assert not ModelVersion.objects.exists()
    assert files_in(workspace, "workspaceartifactstore") == []

    body, ctype = encode_multipart_formdata([("type", "custom_model"), ("file", ("model/w.bin", b"123"))])
    assert api.generic("POST", base.format("small"), body, content_type=ctype).status_code == 201


def test_a_model_zip_that_would_unpack_below_the_reserve_is_refused_before_unpacking(workspace, owner, tight):
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}/models/{{}}/versions/"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("weights.bin", b"\0" * (2 * tight))  # a few KiB that unpack past the margin
    assert len(bomb.getvalue()) < tight // 100
    body, ctype = encode_multipart_formdata([("type", "custom_model"), ("file", ("net.zip", bomb.getvalue()))])
    response = api.generic("POST", base.format("bomb"), body, content_type=ctype)
    assert response.status_code == 507, response.content
    message = response.json()["errors"]["file"][0]
    refused(message)
    assert f"workspaceartifactstore for {2 * tight // MiB} MiB:" in message, "names the unpacked size"
    assert not ModelVersion.objects.exists()
    assert files_in(workspace, "workspaceartifactstore") == [], "neither the zip nor a part of its files is kept"

    small = io.BytesIO()
    with zipfile.ZipFile(small, "w") as archive:
        archive.writestr("weights.bin", b"w" * 1000)
    body, ctype = encode_multipart_formdata([("type", "custom_model"), ("file", ("net.zip", small.getvalue()))])
    ok = api.generic("POST", base.format("net"), body, content_type=ctype)
    assert ok.status_code == 201, ok.content
    assert ok.json()["file_count"] == 1


def test_a_model_copied_in_from_a_datastore_path_keeps_the_reserve(workspace, owner, tight, settings):
    blobstore = store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore"))
    blobstore.write_stream("trained/w.bin", io.BytesIO(big(tight)))
    settings.STUDIO_STORAGE_RESERVE = free_bytes(blobstore.root) - tight  # what is free now, less the margin
    api = token_client(owner)
    path = "azureml://datastores/workspaceblobstore/paths/trained"
    response = api.post(f"/api/v1/workspaces/{workspace.name}/models/copied/versions/", {"path": path}, format="json")
    assert response.status_code == 507, response.content
    refused(response.json()["errors"]["path"][0])
    assert not ModelVersion.objects.exists()
    assert files_in(workspace, "workspaceartifactstore") == []


def test_writes_in_the_datastore_browser_are_refused_below_the_reserve(workspace, owner, owner_client, tight):
    api = token_client(owner)
    files = f"/api/v1/workspaces/{workspace.name}/datastores/workspaceblobstore/files/"
    put = api.generic("PUT", files + "?path=in/big.bin", big(tight), content_type="application/octet-stream")
    assert put.status_code == 507, put.content
    refused(put.json()["errors"]["file"][0])
    posted = api.post(files + "?path=in", {"file": SimpleUploadedFile("big.bin", big(tight))}, format="multipart")
    assert posted.status_code == 507, posted.content
    page = f"/w/{workspace.name}/datastores/workspaceblobstore/upload/?path=in"
    body, ctype = encode_multipart_formdata([("file", ("big.bin", big(tight), "application/octet-stream"))])
    scripted = owner_client.generic("PUT", page, body, content_type=ctype)
    assert scripted.status_code == 400
    refused(scripted.json()["detail"])
    plain = owner_client.post(page, {"file": SimpleUploadedFile("big.bin", big(tight))}, follow=True)
    assert "Not enough free disk space on the storage of workspaceblobstore" in plain.content.decode()
    assert files_in(workspace, "workspaceblobstore") == [], "no half-written file is left"

    small = api.generic("PUT", files + "?path=in/small.txt", b"hello", content_type="text/plain")
    assert small.status_code == 201, small.content
    assert files_in(workspace, "workspaceblobstore") == ["in/small.txt"]


@pytest.fixture
def job(workspace, owner):
    return make_running_job(workspace, owner, "tidy_heron_aaaaaa", experiment="reserve")


def test_an_mlflow_artifact_below_the_reserve_is_refused_with_a_status_the_client_does_not_retry(job, tight):
    client = job_token_client(job)
    path = A + f"ws-main/runs/{job.name}/artifacts/"
    response = client.generic("PUT", path + "big.bin", big(tight))
    assert response.status_code == 507, response.content
    assert response.json()["error_code"] == "RESOURCE_EXHAUSTED"
    refused(response.json()["message"])
    assert client.generic("PUT", path + "small.txt", b"fine").status_code == 200
    assert [e.name for e in store_for_workspace(job.workspace).walk_files("")] == ["small.txt"]


def test_multipart_artifact_parts_and_their_joining_keep_the_reserve(job, tight, settings):
    client = job_token_client(job)
    created = client.post(
        "/mlflow/api/2.0/mlflow-artifacts/mpu/create/" + f"ws-main/runs/{job.name}/artifacts",
        {"path": "big.bin", "num_parts": 1},
        format="json",
    )
    assert created.status_code == 200, created.content
    url = created.json()["credentials"][0]["url"].removeprefix("http://testserver")
    part = client.generic("PUT", url, big(tight))
    assert part.status_code == 507 and part.json()["error_code"] == "RESOURCE_EXHAUSTED"
    store = store_for_workspace(job.workspace)
    assert list(store.walk_files("")) == []

    # A part that fits, and then too little room to join it into the artifact.
    assert client.generic("PUT", url, os.urandom(4 * MiB)).status_code == 200
    settings.STUDIO_STORAGE_RESERVE = free_bytes(store.root) - 2 * MiB
    complete = client.post(
        "/mlflow/api/2.0/mlflow-artifacts/mpu/complete/" + f"ws-main/runs/{job.name}/artifacts",
        {"path": "big.bin", "upload_id": created.json()["upload_id"], "parts": [{"part_number": 1, "etag": '"1"'}]},
        format="json",
    )
    assert complete.status_code == 507, complete.content
    assert "for 4 MiB" in complete.json()["message"]
    assert list(store.walk_files("")) == [], "neither the artifact nor its parts are kept"


def test_a_reserve_above_what_is_free_refuses_at_once_and_zero_turns_it_off(workspace, owner, tight, settings):
    api = token_client(owner)
    url = f"/api/v1/workspaces/{workspace.name}/datastores/workspaceblobstore/files/?path=tiny.txt"
    settings.STUDIO_STORAGE_RESERVE += 2 * tight
    refused_now = api.generic("PUT", url, b"x", content_type="text/plain")
    assert refused_now.status_code == 507
    assert "free, and Studio keeps" in refused_now.json()["detail"]
    settings.STUDIO_STORAGE_RESERVE = 0
    assert api.generic("PUT", url, b"x", content_type="text/plain").status_code == 201


def _reserve_setting(value: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import studio.settings as s; print(s.STUDIO_STORAGE_RESERVE)"],
        env=os.environ | {"STUDIO_SECRET_KEY": "x" * 50, "STUDIO_STORAGE_RESERVE": value},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("value", "size"),
    [("2GiB", 2 * 2**30), ("500MB", 500 * 10**6), ("1048576", 2**20), ("0", 0), ("1.5g", 3 * 2**29), ("", 2 * 2**30)],
)
def test_the_reserve_setting_takes_sizes(value, size):
    result = _reserve_setting(value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(size)


@pytest.mark.parametrize("value", ["lots", "-1", "2 PB", "GiB", "1e9"])
def test_a_bad_reserve_setting_stops_start_up_with_its_name(value):
    result = _reserve_setting(value)
    assert result.returncode != 0
    assert f"STUDIO_STORAGE_RESERVE must be a size such as 2GiB, 500MB or a number of bytes, not {value!r}" in (
        result.stderr
    )
