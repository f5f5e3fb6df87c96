"""The datastore and data pages, through the Django test client."""

from __future__ import annotations

import io

import pytest
from urllib3 import encode_multipart_formdata

from datastores.models import Datastore, DataVersion
from datastores.storage import store_for

CSV = b"city,temp\nOslo,3\nLima,19\n"


@pytest.fixture
def owner_client(client, owner, workspace):
    client.force_login(owner)
    return client


def test_the_navigation_points_at_the_datastore_and_data_pages(owner_client, workspace):
    home = owner_client.get(f"/w/{workspace.name}/").content.decode()
    assert f'href="/w/{workspace.name}/datastores/"' in home
    assert f'href="/w/{workspace.name}/data/"' in home
    listing = owner_client.get(f"/w/{workspace.name}/datastores/").content.decode()
    for name in ("workspaceblobstore", "workspacefilestore", "workspaceartifactstore", "workspaceworkingdirectory"):
        assert name in listing


def test_registering_a_local_folder_through_the_form(owner_client, workspace, local_folder):
    (local_folder / "readme.txt").write_text("hello")
    url = f"/w/{workspace.name}/datastores/new/"
    assert owner_client.get(url).status_code == 200
    bad = owner_client.post(url, {"name": "share", "type": "local", "path": "/etc"})
    assert bad.status_code == 400
    assert b"administrator allowed" in bad.content
    ok = owner_client.post(url, {"name": "share", "type": "local", "path": str(local_folder), "tags": "team=x"})
    assert ok.status_code == 302
    detail = owner_client.get(ok["Location"])
    assert b"readme.txt" in detail.content and b"5\xc2\xa0bytes" in detail.content
    # A folder has no credentials to replace: its button says Edit.
    assert b">Edit</a>" in detail.content and b"replace credentials" not in detail.content
    partial = owner_client.get(ok["Location"], HTTP_HX_REQUEST="true", HTTP_HX_TARGET="browser")
    assert b"<html" not in partial.content and b"readme.txt" in partial.content


def _wrong_key_form(azurite_server, container: str, name: str) -> dict:
    """The Azure Blob form for Azurite's container, with an account key Azurite refuses."""
    return {
        "name": name,
        "type": "azure_blob",
        "account_name": azurite_server.account,
        "container_name": container,
        "endpoint": azurite_server.endpoint,
        "protocol": "http",
        "credential_kind": "account_key",
        "account_key": "C" * 86 + "==",
    }


def test_an_azure_form_with_a_wrong_key_shows_the_error_and_saves_nothing(owner_client, workspace, azurite_server):
    container = azurite_server.container()
    data = _wrong_key_form(azurite_server, container, "blob")
    bad = owner_client.post(f"/w/{workspace.name}/datastores/new/", data)
    assert bad.status_code == 400
    assert b"could not list" in bad.content
    assert b"C" * 86 not in bad.content
    assert not Datastore.objects.filter(name="blob").exists()
    data["credential_kind"] = "sas"
    data["sas_token"] = azurite_server.sas(container)
    good = owner_client.post(f"/w/{workspace.name}/datastores/new/", data)
    assert good.status_code == 302
    assert Datastore.objects.get(name="blob").credentials_type == "sas"
    edit = owner_client.get(f"/w/{workspace.name}/datastores/blob/edit/").content.decode()
    assert azurite_server.sas(container)[:20] not in edit
    assert "Replace the stored credentials" in edit


def test_one_submit_reports_the_forms_own_problems_with_the_connections(owner_client, workspace):
    """A missing name and bad tags (the form's own checks) come back together with the folder's
    problem, not in a second round after the user fixed the first."""
    url = f"/w/{workspace.name}/datastores/new/"
    bad = owner_client.post(url, {"name": "", "type": "local", "path": "/etc", "tags": "=x"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "This field is required." in page
    assert "administrator allowed" in page
    assert page.count('class="field has-error"') == 3, "name, folder and tags are each marked"
    assert not Datastore.objects.filter(workspace=workspace, builtin=False).exists()


def test_a_bad_name_and_a_wrong_key_are_reported_in_one_submit(owner_client, workspace, azurite_server):
    container = azurite_server.container()
    data = _wrong_key_form(azurite_server, container, "has-dash")
    bad = owner_client.post(f"/w/{workspace.name}/datastores/new/", data)
    assert bad.status_code == 400
    assert b"Use letters, digits and underscores" in bad.content
    assert b"could not list" in bad.content
    # With the name left empty (the form's own check), the listing still runs in the same submit.
    empty = owner_client.post(f"/w/{workspace.name}/datastores/new/", data | {"name": ""})
    assert b"This field is required." in empty.content and b"could not list" in empty.content
    # Fields the listing needs come first: with no key at all, no listing is tried.
    keyless = owner_client.post(f"/w/{workspace.name}/datastores/new/", data | {"name": "", "account_key": ""})
    assert b"Give exactly one of an account key or a SAS token." in keyless.content
    assert b"could not list" not in keyless.content
    assert not Datastore.objects.filter(workspace=workspace, type="azure_blob").exists()


def test_uploading_a_folder_from_the_page_keeps_its_structure(owner_client, workspace):
    body, ctype = encode_multipart_formdata(
        [("file", ("photos/a/1.txt", b"one", "text/plain")), ("file", ("photos/b/2.txt", b"two", "text/plain"))]
    )
    url = f"/w/{workspace.name}/datastores/workspaceblobstore/upload/?path=incoming"
    response = owner_client.generic("PUT", url, body, content_type=ctype)
    assert response.status_code == 200, response.content
    assert response.json()["files"] == 2
    store = store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore"))
    assert store.open_read("incoming/photos/b/2.txt").read() == b"two"
    download = owner_client.get(
        f"/w/{workspace.name}/datastores/workspaceblobstore/download/?path=incoming/photos/a/1.txt"
    )
    assert b"".join(download.streaming_content) == b"one"
    # Without JavaScript: a plain multipart POST.
    from django.core.files.uploadedfile import SimpleUploadedFile

    plain = owner_client.post(url.replace("incoming", "plain"), {"file": SimpleUploadedFile("p.txt", b"plain")})
    assert plain.status_code == 302
    assert store.open_read("plain/p.txt").read() == b"plain"


def test_creating_a_data_asset_from_uploaded_files_on_the_page(owner_client, workspace):
    body, ctype = encode_multipart_formdata(
        [
            ("name", "weather"),
            ("version", ""),
            ("type", "uri_file"),
            ("source", "upload"),
            ("description", "temperatures"),
            ("tags", "src=met"),
            ("file", ("weather.csv", CSV, "text/csv")),
        ]
    )
    response = owner_client.generic("PUT", f"/w/{workspace.name}/data/new/", body, content_type=ctype)
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == f"/w/{workspace.name}/data/weather/?version=1"
    version = DataVersion.objects.get(asset__name="weather")
    assert version.datastore_path.startswith("LocalUpload/") and version.datastore_path.endswith("/weather.csv")
    assert version.tags == {"src": "met"}
    page = owner_client.get(response.json()["redirect"]).content.decode()
    assert "azureml:weather:1" in page and "LocalUpload" in page
    preview = owner_client.get(f"/w/{workspace.name}/data/weather/preview/?version=1").content.decode()
    assert "<th>city<br>" in preview and "Lima" in preview and "int64" in preview


def test_page_errors_come_back_as_the_form(owner_client, workspace):
    body, ctype = encode_multipart_formdata(
        [
            ("name", "two"),
            ("type", "uri_file"),
            ("source", "upload"),
            ("file", ("a.csv", CSV, "text/csv")),
            ("file", ("b.csv", CSV, "text/csv")),
        ]
    )
    response = owner_client.generic("PUT", f"/w/{workspace.name}/data/new/", body, content_type=ctype)
    assert response.status_code == 400
    assert "exactly one" in response.json()["html"]
    store = store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore"))
    assert not store.exists("LocalUpload/_staging") or not store.ls("LocalUpload/_staging"), "nothing staged is left"


def test_creating_from_a_datastore_path_and_from_yaml(owner_client, workspace):
    store = store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore"))
    store.write_stream("w/t.csv", io.BytesIO(CSV))
    url = f"/w/{workspace.name}/data/new/"
    form = owner_client.get(url + "?datastore=workspaceblobstore&path=w/t.csv").content.decode()
    assert 'value="w/t.csv"' in form
    missing = owner_client.post(
        url,
        {
            "name": "t",
            "type": "uri_file",
            "source": "datastore",
            "datastore": "workspaceblobstore",
            "datastore_path": "w/x.csv",
        },
    )
    assert missing.status_code == 400 and b"is not a file" in missing.content
    ok = owner_client.post(
        url,
        {
            "name": "t",
            "type": "uri_file",
            "source": "datastore",
            "datastore": "workspaceblobstore",
            "datastore_path": "w/t.csv",
        },
    )
    assert ok.status_code == 302
    yaml_text = "name: t\nversion: '5'\ntype: uri_file\npath: azureml://datastores/workspaceblobstore/paths/w/t.csv\n"
    from_yaml = owner_client.post(url, {"mode": "yaml", "yaml": yaml_text})
    assert from_yaml.status_code == 302
    assert sorted(DataVersion.objects.filter(asset__name="t").values_list("version", flat=True)) == ["1", "5"]
    local = owner_client.post(url, {"mode": "yaml", "yaml": "name: t\npath: ./data\n"})
    assert local.status_code == 400 and b"local to your machine" in local.content


def test_archiving_and_restoring_from_the_page(owner_client, workspace, owner):
    from datastores import services

    store = store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore"))
    store.write_stream("a.csv", io.BytesIO(CSV))
    for _ in range(2):
        services.do_create_data_version(
            workspace,
            actor=owner,
            name="arc",
            type="uri_file",
            path="azureml://datastores/workspaceblobstore/paths/a.csv",
        )
    owner_client.post(f"/w/{workspace.name}/data/arc/versions/2/archive/")
    page = owner_client.get(f"/w/{workspace.name}/data/arc/").content.decode()
    assert 'arc <span class="muted">: 1</span>' in page
    listing = owner_client.get(f"/w/{workspace.name}/data/").content.decode()
    assert "of 2" in listing
    owner_client.post(f"/w/{workspace.name}/data/arc/versions/2/archive/", {"restore": "1"})
    assert not DataVersion.objects.get(asset__name="arc", version="2").archived
