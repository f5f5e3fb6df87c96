"""Data assets: versions, @latest, archive, YAML, local uploads to LocalUpload/<hash>/, URLs,
MLTable validation and previews of CSV and Parquet."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datastores import services
from datastores.models import Datastore, DataVersion
from datastores.storage import store_for
from tests.conftest import token_client

CSV = b"name,age,fare,survived,boarded\nAllen,29,211.33,true,1912-04-10\nBrown,,71.28,false,1912-04-10\n"


@pytest.fixture
def blobstore(workspace):
    return Datastore.objects.get(workspace=workspace, name="workspaceblobstore")


@pytest.fixture
def api(owner):
    return token_client(owner)


def multipart(files: list[tuple[str, bytes]], **fields) -> tuple[bytes, str]:
    """A multipart body whose file names keep their folders (Django's test client strips them)."""
    from urllib3 import encode_multipart_formdata

    parts = [(k, v) for k, v in fields.items()] + [("file", (name, data, "text/csv")) for name, data in files]
    return encode_multipart_formdata(parts)


def put(store, path, data: bytes):
    store.write_stream(path, io.BytesIO(data))


def test_versions_number_themselves_and_latest_skips_archived(workspace, owner, blobstore, api):
    store = store_for(blobstore)
    put(store, "raw/t1.csv", CSV)
    put(store, "raw/t2.csv", CSV + b"Cole,3,7.5,true,1912-04-11\n")
    base = f"/api/v1/workspaces/{workspace.name}/data/titanic/versions/"
    first = api.post(base, {"type": "uri_file", "path": "azureml://datastores/workspaceblobstore/paths/raw/t1.csv"})
    assert first.status_code == 201, first.content
    assert first.json()["version"] == "1"
    assert first.json()["size_bytes"] == len(CSV)
    second = api.post(base, {"type": "uri_file", "path": "azureml://datastores/workspaceblobstore/paths/raw/t2.csv"})
    assert second.json()["version"] == "2"
    assert api.get(base + "latest/").json()["version"] == "2"
    taken = api.post(
        base, {"version": "2", "type": "uri_file", "path": "azureml://datastores/workspaceblobstore/paths/raw/t1.csv"}
    )
    assert taken.status_code == 409

    assert api.delete(base + "2/").status_code == 204
    assert api.get(base + "latest/").json()["version"] == "1"
    assert api.get(base + "2/").json()["archived"] is True
    listing = api.get(f"/api/v1/workspaces/{workspace.name}/data/").json()["results"]
    assert [(d["name"], d["version"]) for d in listing] == [("titanic", "1")]
    assert api.post(base + "2/restore/").status_code == 200
    assert api.get(base + "latest/").json()["version"] == "2"

    changed = api.patch(base + "1/", {"description": "first cut", "tags": {"stage": "raw"}}, format="json")
    assert changed.json()["description"] == "first cut"
    immutable = api.patch(
        base + "1/", {"path": "azureml://datastores/workspaceblobstore/paths/raw/t2.csv"}, format="json"
    )
    assert immutable.status_code == 400


def test_a_path_must_exist_and_fit_the_type(workspace, blobstore, api):
    put(store_for(blobstore), "folder/a.csv", CSV)
    base = f"/api/v1/workspaces/{workspace.name}/data/x/versions/"
    missing = api.post(
        base, {"type": "uri_file", "path": "azureml://datastores/workspaceblobstore/paths/folder/nope.csv"}
    )
    assert missing.status_code == 400 and "not a file" in missing.json()["detail"]
    folder_as_file = api.post(
        base, {"type": "uri_file", "path": "azureml://datastores/workspaceblobstore/paths/folder"}
    )
    assert folder_as_file.status_code == 400
    file_as_folder = api.post(
        base, {"type": "uri_folder", "path": "azureml://datastores/workspaceblobstore/paths/folder/a.csv"}
    )
    assert file_as_folder.status_code == 400 and "not a folder" in file_as_folder.json()["detail"]
    no_store = api.post(base, {"type": "uri_folder", "path": "azureml://datastores/nowhere/paths/folder"})
    assert no_store.status_code == 400 and "no datastore named 'nowhere'" in no_store.json()["detail"]
    ok = api.post(base, {"type": "uri_folder", "path": "azureml://datastores/workspaceblobstore/paths/folder"})
    assert ok.status_code == 201
    assert ok.json()["path"] == "azureml://datastores/workspaceblobstore/paths/folder/"
    assert ok.json()["file_count"] == 1


def test_a_uri_folder_that_does_not_exist_yet_is_created_as_azure_does(workspace, blobstore, api):
    base = f"/api/v1/workspaces/{workspace.name}/data/results/versions/"
    created = api.post(base, {"type": "uri_folder", "path": "azureml://datastores/workspaceblobstore/paths/new/run1"})
    assert created.status_code == 201, created.content
    assert created.json()["file_count"] == 0
    assert store_for(blobstore).isdir("new/run1")
    mltable = api.post(base, {"type": "mltable", "path": "azureml://datastores/workspaceblobstore/paths/new/none"})
    assert mltable.status_code == 400  # an MLTable folder must hold an MLTable file: nothing is made up
    assert not store_for(blobstore).exists("new/none")


def test_web_urls_must_be_https(workspace, api):
    base = f"/api/v1/workspaces/{workspace.name}/data/web/versions/"
    assert api.post(base, {"type": "uri_file", "path": "http://example.com/a.csv"}).status_code == 400
    created = api.post(base, {"type": "uri_file", "path": "https://example.com/data/a.csv"})
    assert created.status_code == 201
    assert created.json()["datastore"] is None
    assert api.get(base + "1/preview/").json()["note"] == "Web URLs are not previewed."


def test_a_cli_yaml_creates_a_version(workspace, blobstore, api):
    put(store_for(blobstore), "yaml/data.csv", CSV)
    spec = (
        "$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json\n"
        "name: from_yaml\nversion: 7\ntype: uri_file\n"
        "path: azureml://datastores/workspaceblobstore/paths/yaml/data.csv\n"
        "description: made by YAML\ntags:\n  source: cli\n"
    )
    response = api.post(f"/api/v1/workspaces/{workspace.name}/data/", spec, content_type="application/yaml")
    assert response.status_code == 201, response.content
    assert (response.json()["name"], response.json()["version"]) == ("from_yaml", "7")
    assert response.json()["tags"] == {"source": "cli"}
    bad = api.post(f"/api/v1/workspaces/{workspace.name}/data/", "name: x\npaht: y\n", content_type="application/yaml")
    assert bad.status_code == 400
    assert "'paht' (line 2)" in bad.json()["detail"]


def test_local_files_land_in_localupload_under_their_content_hash(workspace, blobstore, api):
    base = f"/api/v1/workspaces/{workspace.name}/data/uploaded/versions/"
    files = [SimpleUploadedFile("train.csv", CSV), SimpleUploadedFile("test.csv", CSV)]
    response = api.post(base, {"type": "uri_folder", "description": "two files", "file": files}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["path"].startswith("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    digest = body["datastore_path"].split("/")[1]
    assert len(digest) == 32
    store = store_for(blobstore)
    assert {e.name for e in store.ls(body["datastore_path"])} == {"train.csv", "test.csv"}
    assert [e.name for e in store.ls("LocalUpload")] == [digest], "the staging area is emptied"

    same = api.post(
        base,
        {"type": "uri_folder", "file": [SimpleUploadedFile("train.csv", CSV), SimpleUploadedFile("test.csv", CSV)]},
        format="multipart",
    )
    assert same.json()["datastore_path"] == body["datastore_path"], "same content, same folder"
    single = api.post(
        f"/api/v1/workspaces/{workspace.name}/data/one/versions/",
        {"type": "uri_file", "file": SimpleUploadedFile("only.csv", CSV)},
        format="multipart",
    )
    assert single.json()["path"].endswith("/only.csv")
    assert single.json()["size_bytes"] == len(CSV)
    preview = api.get(f"/api/v1/workspaces/{workspace.name}/data/one/versions/1/preview/").json()
    assert [c["name"] for c in preview["schema"]] == ["name", "age", "fare", "survived", "boarded"]


def test_multipart_uploads_keep_folders_but_refuse_climbing_out(workspace, blobstore, api):
    base = f"/api/v1/workspaces/{workspace.name}/data/tree/versions/"
    body, ctype = multipart([("tree/a/x.csv", CSV), ("tree/b/y.csv", CSV)], type="uri_folder")
    response = api.generic("POST", base, body, content_type=ctype)
    assert response.status_code == 201, response.content
    assert response.json()["path"].endswith("/tree/")
    assert response.json()["file_count"] == 2
    for evil_name in ("../../escape.csv", "/etc/escape.csv", "a\\..\\..\\escape.csv"):
        body, ctype = multipart([(evil_name, CSV)], type="uri_folder")
        evil = api.generic("POST", base, body, content_type=ctype)
        assert evil.status_code == 400, evil_name
    store = store_for(blobstore)
    assert not store.exists("escape.csv")
    assert [e.name for e in store.ls("LocalUpload")] == [response.json()["datastore_path"].split("/")[1]]


def test_a_uri_file_upload_is_one_file(workspace, api):
    base = f"/api/v1/workspaces/{workspace.name}/data/two/versions/"
    files = [SimpleUploadedFile("a.csv", CSV), SimpleUploadedFile("b.csv", CSV)]
    response = api.post(base, {"type": "uri_file", "file": files}, format="multipart")
    assert response.status_code == 400
    assert "exactly one" in response.json()["detail"]


MLTABLE = """paths:
  - file: ./titanic.csv
transformations:
  - read_delimited:
      delimiter: ';'
      header: all_files_same_headers
"""


def test_mltable_folders_need_a_valid_mltable_file(workspace, blobstore, api):
    store = store_for(blobstore)
    put(store, "tables/ok/titanic.csv", CSV.replace(b",", b";"))
    put(store, "tables/ok/MLTable", MLTABLE.encode())
    put(store, "tables/none/titanic.csv", CSV)
    put(store, "tables/broken/MLTable", b"paths:\n  - file: ./missing.csv\n")
    put(store, "tables/escape/MLTable", b"paths:\n  - file: ../../etc/passwd\n")
    base = f"/api/v1/workspaces/{workspace.name}/data/table/versions/"
    ok = api.post(base, {"type": "mltable", "path": "azureml://datastores/workspaceblobstore/paths/tables/ok/"})
    assert ok.status_code == 201, ok.content
    none = api.post(base, {"type": "mltable", "path": "azureml://datastores/workspaceblobstore/paths/tables/none/"})
    assert none.status_code == 400 and "must contain an MLTable file" in none.json()["detail"]
    broken = api.post(base, {"type": "mltable", "path": "azureml://datastores/workspaceblobstore/paths/tables/broken"})
    assert broken.status_code == 400 and "missing.csv" in broken.json()["detail"]
    escape = api.post(base, {"type": "mltable", "path": "azureml://datastores/workspaceblobstore/paths/tables/escape"})
    assert escape.status_code == 400 and ".." in escape.json()["detail"]
    preview = api.get(base + "1/preview/").json()
    assert preview["source"] == "tables/ok/titanic.csv"
    assert preview["schema"][0] == {"name": "name", "type": "string"}
    assert preview["rows"][0][:2] == ["Allen", "29"]


def test_csv_preview_infers_column_types(workspace, blobstore, owner):
    put(store_for(blobstore), "p/t.csv", CSV)
    version = services.do_create_data_version(
        workspace,
        actor=owner,
        name="typed",
        type="uri_file",
        path="azureml://datastores/workspaceblobstore/paths/p/t.csv",
    )
    from datastores.preview import preview

    result = preview(store_for(blobstore), version.datastore_path, version.type)
    assert result.columns == [
        ("name", "string"),
        ("age", "int64"),
        ("fare", "float64"),
        ("survived", "boolean"),
        ("boarded", "datetime"),
    ]
    assert result.rows[1] == ["Brown", "", "71.28", "false", "1912-04-10"]


def test_parquet_preview_reads_schema_and_first_rows(workspace, blobstore, owner):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"id": list(range(100)), "score": [i / 10 for i in range(100)], "label": ["x"] * 100})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    put(store_for(blobstore), "pq/data/part-0.parquet", buffer.getvalue())
    services.do_create_data_version(
        workspace,
        actor=owner,
        name="scores",
        type="uri_folder",
        path="azureml://datastores/workspaceblobstore/paths/pq/data",
    )
    from datastores.preview import preview

    result = preview(store_for(blobstore), "pq/data", "uri_folder")
    assert result.format == "parquet"
    assert result.columns == [("id", "int64"), ("score", "double"), ("label", "string")]
    assert len(result.rows) == 20
    assert result.rows[3] == ["3", "0.3", "x"]


def test_reference_resolution(workspace, blobstore, owner):
    put(store_for(blobstore), "r/a.csv", CSV)
    for _ in range(3):
        services.do_create_data_version(
            workspace,
            actor=owner,
            name="ref",
            type="uri_file",
            path="azureml://datastores/workspaceblobstore/paths/r/a.csv",
        )
    assert services.resolve_reference(workspace, "azureml:ref:2").version == "2"
    assert services.resolve_reference(workspace, "azureml:ref@latest").version == "3"
    with pytest.raises(Exception, match="no data asset ref:9"):
        services.resolve_reference(workspace, "azureml:ref:9")
    assert DataVersion.objects.filter(asset__name="ref").count() == 3
