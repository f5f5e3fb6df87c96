"""Each kind of datastore against a real server: register (validated by listing), browse, upload
(raw and multipart, streamed), download, delete; credentials never come back."""

from __future__ import annotations

import pytest

from datastores.models import Datastore
from tests.conftest import token_client

pytestmark = pytest.mark.django_db(transaction=False)


def _azure_key_body(azurite_server, container, name="blob_key"):
    return {
        "name": name,
        "type": "azure_blob",
        "account_name": azurite_server.account,
        "container_name": container,
        "endpoint": azurite_server.endpoint,
        "protocol": "http",
        "credentials": {"account_key": azurite_server.key},
    }


@pytest.fixture(params=["azure_key", "azure_sas", "s3", "local"])
def registered(request, workspace, owner):
    """(api client, datastore name, the secrets to look for) for each kind of storage."""
    api = token_client(owner)
    kind = request.param
    if kind == "azure_key":
        server = request.getfixturevalue("azurite_server")
        body = _azure_key_body(server, server.container(), "blob_key")
        secrets = [server.key]
    elif kind == "azure_sas":
        server = request.getfixturevalue("azurite_server")
        container = server.container()
        sas = server.sas(container)
        body = {
            "name": "blob_sas",
            "type": "azure_blob",
            "account_name": server.account,
            "container_name": container,
            "endpoint": server.endpoint,
            "protocol": "http",
            "credentials": {"sas_token": sas},
        }
        secrets = [sas, sas.split("sig=")[1].split("&")[0]]
    elif kind == "s3":
        server = request.getfixturevalue("s3_server")
        body = server.datastore("bucket_store")
        secrets = [server.secret]
    else:
        folder = request.getfixturevalue("local_folder")
        body = {"name": "nfs_share", "type": "local", "path": str(folder)}
        secrets = []
    response = api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", body, format="json")
    assert response.status_code == 201, response.content
    for secret in secrets:
        assert secret not in response.content.decode()
    return api, body["name"], secrets


def test_a_datastore_is_registered_browsed_uploaded_to_and_downloaded_from(registered, workspace):
    api, name, secrets = registered
    base = f"/api/v1/workspaces/{workspace.name}/datastores/{name}"

    shown = api.get(base + "/")
    assert shown.status_code == 200
    assert "credentials" not in shown.json()
    payload = b"a,b\n1,2\n" * 1000
    put = api.generic("PUT", base + "/files/?path=raw/2024/table.csv", payload, content_type="text/csv")
    assert put.status_code == 201, put.content
    assert put.json()["size"] == len(payload)
    assert put.json()["uri"] == f"azureml://datastores/{name}/paths/raw/2024/table.csv"

    from django.core.files.uploadedfile import SimpleUploadedFile

    multipart = api.post(
        base + "/files/?path=raw",
        {"file": [SimpleUploadedFile("notes.txt", b"hello"), SimpleUploadedFile("more.txt", b"world")]},
        format="multipart",
    )
    assert multipart.status_code == 201, multipart.content
    assert sorted(f["path"] for f in multipart.json()["files"]) == ["more.txt", "notes.txt"]

    root = api.get(base + "/browse/")
    assert root.status_code == 200
    assert [(e["name"], e["type"]) for e in root.json()["entries"]] == [("raw", "folder")]
    raw = api.get(base + "/browse/?path=raw").json()["entries"]
    assert [(e["name"], e["type"]) for e in raw] == [("2024", "folder"), ("more.txt", "file"), ("notes.txt", "file")]
    table = api.get(base + "/browse/?path=raw/2024").json()["entries"][0]
    assert table["size"] == len(payload)
    assert table["modified"] is not None

    download = api.get(base + "/files/?path=raw/2024/table.csv")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == payload
    assert download["Content-Length"] == str(len(payload))
    assert 'filename="table.csv"' in download["Content-Disposition"]

    again = api.generic("PUT", base + "/files/?path=raw/notes.txt", b"x", content_type="text/plain")
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    replaced = api.generic("PUT", base + "/files/?path=raw/notes.txt&overwrite=true", b"x", content_type="text/plain")
    assert replaced.status_code == 201

    assert api.delete(base + "/files/?path=raw/more.txt").status_code == 204
    assert api.get(base + "/files/?path=raw/more.txt").status_code == 404
    for response in (shown, put, root, multipart):
        for secret in secrets:
            assert secret not in response.content.decode()


def test_bad_azure_credentials_are_refused_and_nothing_is_saved(azurite_server, workspace, owner):
    api = token_client(owner)
    body = _azure_key_body(azurite_server, azurite_server.container())
    wrong = "A" * 86 + "=="
    body["credentials"] = {"account_key": wrong}
    response = api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", body, format="json")
    assert response.status_code == 400
    assert "could not list" in response.json()["detail"]
    assert wrong not in response.content.decode()
    assert not Datastore.objects.filter(workspace=workspace, name="blob_key").exists()


def test_a_missing_container_is_reported(azurite_server, workspace, owner):
    api = token_client(owner)
    body = _azure_key_body(azurite_server, "no-such-container")
    response = api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", body, format="json")
    assert response.status_code == 400
    assert "no-such-container" in response.json()["detail"]
    assert azurite_server.key not in response.content.decode()


def test_a_read_only_sas_lists_but_cannot_upload(azurite_server, workspace, owner):
    api = token_client(owner)
    container = azurite_server.container()
    sas = azurite_server.sas(container, write=False)
    body = _azure_key_body(azurite_server, container, "readonly_sas")
    body["credentials"] = {"sas_token": sas}
    assert api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", body, format="json").status_code == 201
    put = api.generic(
        "PUT",
        f"/api/v1/workspaces/{workspace.name}/datastores/readonly_sas/files/?path=a.txt",
        b"x",
        content_type="text/plain",
    )
    assert put.status_code == 400
    assert "refused" in put.json()["detail"]
    assert sas.split("sig=")[1].split("&")[0] not in put.content.decode()


def test_bad_s3_secret_is_refused(s3_server, workspace, owner):
    api = token_client(owner)
    # moto accepts any key; a bucket that does not exist is what it refuses.
    body = {
        "name": "nobucket",
        "type": "s3",
        "bucket": "does-not-exist",
        "endpoint_url": s3_server.url,
        "credentials": {"access_key_id": s3_server.key, "secret_access_key": s3_server.secret},
    }
    response = api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", body, format="json")
    assert response.status_code == 400
    assert "does-not-exist" in response.json()["detail"]
    assert s3_server.secret not in response.content.decode()


def test_an_unreachable_endpoint_fails_quickly(workspace, owner, settings):
    from tests.datastores.conftest import free_port

    settings.STUDIO_STORAGE_TIMEOUT = 2
    api = token_client(owner)
    body = {
        "name": "nowhere",
        "type": "s3",
        "bucket": "b",
        "endpoint_url": f"http://127.0.0.1:{free_port()}",
        "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "not-a-real-secret-123"},
    }
    response = api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", body, format="json")
    assert response.status_code == 400
    assert "Could not reach" in response.json()["detail"]
    assert "not-a-real-secret-123" not in response.content.decode()
