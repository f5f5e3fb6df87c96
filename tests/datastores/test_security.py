"""Credentials never leave Studio; paths never leave their datastore; roles decide who writes."""

from __future__ import annotations

import io
import logging
import os

import pytest

from datastores import services
from datastores.models import Datastore
from datastores.storage import store_for
from studio.models import ActivityEvent
from tests.conftest import ROLES, token_client
from tests.studio.test_permission_matrix import EXPECTED


def _register_azure(api, workspace, server, container, *, sas=None, name="secret_blob"):
    creds = {"sas_token": sas} if sas else {"account_key": server.key}
    return api.post(
        f"/api/v1/workspaces/{workspace.name}/datastores/",
        {
            "name": name,
            "type": "azure_blob",
            "account_name": server.account,
            "container_name": container,
            "endpoint": server.endpoint,
            "protocol": "http",
            "credentials": creds,
        },
        format="json",
    )


def test_credentials_appear_in_no_response_page_event_log_or_error(
    azurite_server, s3_server, workspace, owner, client, caplog
):
    caplog.set_level(logging.DEBUG)
    api = token_client(owner)
    container = azurite_server.container()
    sas = azurite_server.sas(container)
    sig = sas.split("sig=")[1].split("&")[0]
    secrets = [azurite_server.key, sas, sig, s3_server.secret]
    responses = [
        _register_azure(api, workspace, azurite_server, container),
        _register_azure(api, workspace, azurite_server, container, sas=sas, name="sas_blob"),
        api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", s3_server.datastore("s3_store"), format="json"),
    ]
    assert [r.status_code for r in responses] == [201, 201, 201]
    # A failing replacement says why without echoing the secret.
    wrong = "B" * 86 + "=="
    secrets.append(wrong)
    failed = api.patch(
        f"/api/v1/workspaces/{workspace.name}/datastores/secret_blob/",
        {"credentials": {"account_key": wrong}},
        format="json",
    )
    assert failed.status_code == 400
    responses.append(failed)
    for name in ("secret_blob", "sas_blob", "s3_store"):
        base = f"/api/v1/workspaces/{workspace.name}/datastores/{name}"
        responses.append(api.generic("PUT", base + "/files/?path=x/y.txt", b"hi", content_type="text/plain"))
        responses.append(api.get(base + "/"))
        responses.append(api.get(base + "/browse/?path=x"))
    responses.append(api.get(f"/api/v1/workspaces/{workspace.name}/datastores/"))
    client.force_login(owner)
    for url in (
        f"/w/{workspace.name}/datastores/",
        f"/w/{workspace.name}/datastores/secret_blob/",
        f"/w/{workspace.name}/datastores/sas_blob/?path=x",
        f"/w/{workspace.name}/datastores/secret_blob/edit/",
        f"/w/{workspace.name}/datastores/s3_store/edit/",
        f"/w/{workspace.name}/activity/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        responses.append(page)
    bad_page = client.post(
        f"/w/{workspace.name}/datastores/secret_blob/edit/",
        {
            "description": "",
            "tags": "",
            "account_name": azurite_server.account,
            "container_name": container,
            "endpoint": azurite_server.endpoint,
            "protocol": "http",
            "replace_credentials": "on",
            "credential_kind": "account_key",
            "account_key": wrong,
        },
    )
    assert bad_page.status_code == 400
    responses.append(bad_page)

    for response in responses:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        for secret in secrets:
            assert secret.encode() not in body, (response.status_code, secret[:6])
    events = list(ActivityEvent.objects.filter(workspace=workspace).values_list("target", "data"))
    for secret in secrets:
        assert secret not in repr(events)
        assert secret not in caplog.text
    stored = Datastore.objects.get(workspace=workspace, name="secret_blob")
    assert azurite_server.key not in stored.credentials_encrypted
    assert stored.get_credentials() == {"account_key": azurite_server.key}, "the failed replacement saved nothing"


def test_storage_errors_mask_secrets_even_when_a_library_repeats_them():
    from datastores.masking import mask

    text = "BlobEndpoint=http://x;SharedAccessSignature=sv=2021&sig=abc%2Fdef;AccountKey=c2VjcmV0Cg==; key=hunter22"
    masked = mask(text, ["hunter22"])
    assert "abc%2Fdef" not in masked and "c2VjcmV0Cg==" not in masked and "hunter22" not in masked


def test_the_console_log_filter_masks_sas_signatures():
    from datastores.masking import MaskSecrets

    record = logging.LogRecord("azure", logging.INFO, __file__, 1, "GET %s", ("https://a/c?sv=1&sig=TOPSECRET",), None)
    MaskSecrets().filter(record)
    assert "TOPSECRET" not in record.getMessage()


@pytest.fixture
def local_ds(workspace, owner, local_folder, tmp_path):
    (local_folder / "ok.txt").write_text("fine")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not read")
    os.symlink(outside, local_folder / "linkdir")
    os.symlink(outside / "secret.txt", local_folder / "link.txt")
    return services.do_register_datastore(workspace, actor=owner, name="nfs", type="local", path=str(local_folder))


@pytest.mark.parametrize(
    "path",
    [
        "../",
        "..",
        "a/../../x",
        "/etc",
        "/etc/passwd",
        "C:/Windows",
        "linkdir",
        "linkdir/secret.txt",
        "link.txt",
        "a\\..\\b",
        "~root",
    ],
)
def test_paths_cannot_leave_a_datastore(path, local_ds, workspace, owner, client):
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}/datastores/nfs"
    from urllib.parse import quote

    q = quote(path)
    browse = api.get(base + f"/browse/?path={q}")
    download = api.get(base + f"/files/?path={q}")
    upload = api.generic("PUT", base + f"/files/?path={q}/new.txt", b"x", content_type="text/plain")
    asset = api.post(
        f"/api/v1/workspaces/{workspace.name}/data/evil/versions/",
        {"type": "uri_folder", "path": f"azureml://datastores/nfs/paths/{path}"},
    )
    for response in (browse, download, upload, asset):
        assert response.status_code in (400, 404), (path, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"do not read" not in body
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/datastores/nfs/download/?path={q}")
    assert page.status_code == 404
    parent = os.path.dirname(store_for(local_ds).root)
    assert not os.path.exists(os.path.join(parent, "new.txt"))
    assert not os.path.exists(os.path.join(parent, "outside", "new.txt"))


def test_symlinks_are_hidden_from_listings(local_ds, workspace, owner):
    entries = token_client(owner).get(f"/api/v1/workspaces/{workspace.name}/datastores/nfs/browse/").json()["entries"]
    assert [e["name"] for e in entries] == ["ok.txt"]


def test_local_datastores_stay_inside_the_allowed_folders(workspace, owner, settings, tmp_path):
    api = token_client(owner)
    url = f"/api/v1/workspaces/{workspace.name}/datastores/"
    for path in ("/etc", str(tmp_path), str(settings.DATA_DIR), "relative/path", str(settings.STUDIO_DATASTORES_ROOT)):
        response = api.post(url, {"name": "bad", "type": "local", "path": path}, format="json")
        assert response.status_code == 400, path
    assert not Datastore.objects.filter(name="bad").exists()


@pytest.mark.parametrize("role", ROLES)
def test_who_may_upload_register_and_download(role, workspace, members, local_folder):
    (local_folder / "f.txt").write_text("data")
    Datastore.objects.create(workspace=workspace, name="nfs", type="local", path=str(local_folder))
    api = token_client(members[role])
    base = f"/api/v1/workspaces/{workspace.name}/datastores"
    assert api.get(f"{base}/nfs/browse/").status_code == 200
    download = api.get(f"{base}/nfs/files/?path=f.txt")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"data"

    upload = api.generic("PUT", f"{base}/workspaceblobstore/files/?path=u/{role}.txt", b"x", content_type="text/plain")
    assert upload.status_code == (201 if "data.write" in EXPECTED[role] else 403)
    from django.core.files.uploadedfile import SimpleUploadedFile

    multi = api.post(
        f"{base}/workspaceblobstore/files/?path=m",
        {"file": SimpleUploadedFile(f"{role}.txt", b"x")},
        format="multipart",
    )
    assert multi.status_code == (201 if "data.write" in EXPECTED[role] else 403)
    registered = api.post(base + "/", {"name": f"r_{role}", "type": "local", "path": str(local_folder)}, format="json")
    assert registered.status_code == (201 if "datastores.write" in EXPECTED[role] else 403)
    default = api.post(f"{base}/nfs/default/")
    assert default.status_code == (200 if "datastores.write" in EXPECTED[role] else 403)
    blob = store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore"))
    assert blob.exists(f"u/{role}.txt") == ("data.write" in EXPECTED[role])


@pytest.mark.parametrize("role", ROLES)
def test_page_uploads_follow_the_role_too(role, workspace, members, client):
    client.force_login(members[role])
    from urllib3 import encode_multipart_formdata

    body, ctype = encode_multipart_formdata([("file", ("p.txt", b"x", "text/plain"))])
    response = client.generic(
        "PUT", f"/w/{workspace.name}/datastores/workspaceblobstore/upload/?path=p", body, content_type=ctype
    )
    assert response.status_code == (200 if "data.write" in EXPECTED[role] else 403)
    page = client.get(f"/w/{workspace.name}/datastores/workspaceblobstore/")
    assert page.status_code == 200
    assert (b'data-open="upload-dialog"' in page.content) == ("data.write" in EXPECTED[role])


def test_outsiders_see_nothing(workspace, outsider, client):
    api = token_client(outsider)
    assert api.get(f"/api/v1/workspaces/{workspace.name}/datastores/").status_code == 404
    assert (
        api.get(f"/api/v1/workspaces/{workspace.name}/datastores/workspaceblobstore/files/?path=x").status_code == 404
    )
    assert api.get(f"/api/v1/workspaces/{workspace.name}/data/").status_code == 404
    client.force_login(outsider)
    assert client.get(f"/w/{workspace.name}/datastores/workspaceblobstore/").status_code == 404
    assert client.get(f"/w/{workspace.name}/data/").status_code == 404


def test_a_reader_cannot_create_data_or_archive(workspace, members):
    blob = store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore"))
    blob.write_stream("r/a.csv", io.BytesIO(b"a\n1\n"))
    api = token_client(members["reader"])
    url = f"/api/v1/workspaces/{workspace.name}/data/r/versions/"
    assert (
        api.post(url, {"type": "uri_file", "path": "azureml://datastores/workspaceblobstore/paths/r/a.csv"}).status_code
        == 403
    )
    ds_api = token_client(members["data_scientist"])
    assert (
        ds_api.post(
            url, {"type": "uri_file", "path": "azureml://datastores/workspaceblobstore/paths/r/a.csv"}
        ).status_code
        == 201
    )
    assert api.delete(url + "1/").status_code == 403
    assert api.get(url + "1/").status_code == 200
