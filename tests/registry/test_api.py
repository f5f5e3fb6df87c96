"""The models REST API: create from a path, YAML and uploads; versions, files, download, aliases,
stage, archive/restore; bad input; and the role contract (Reader reads, cannot write; outsiders 404)."""

from __future__ import annotations

import io
import zipfile

import pytest

from registry import services
from registry.models import ModelVersion
from tests.conftest import token_client
from tests.registry.conftest import write_mlflow_model


def multipart(files: list[tuple[str, bytes]], **fields) -> tuple[bytes, str]:
    """A multipart body whose file names keep their folders (Django's test client strips them)."""
    from urllib3 import encode_multipart_formdata

    parts = list(fields.items()) + [("file", (name, data, "application/octet-stream")) for name, data in files]
    return encode_multipart_formdata(parts)


@pytest.fixture
def api(owner):
    return token_client(owner)


def base(workspace, name="iris"):
    return f"/api/v1/workspaces/{workspace.name}/models/{name}/versions/"


def test_create_from_a_job_output_then_read_list_and_download(workspace, api, trained_job):
    created = api.post(
        base(workspace),
        {"path": f"azureml://jobs/{trained_job.name}/outputs/artifacts/paths/outputs/model/", "tags": {"a": "1"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["version"], body["type"], body["job"]) == ("iris", "1", "mlflow_model", trained_job.name)
    assert body["path"].startswith("azureml://datastores/workspaceartifactstore/paths/registered_models/iris/")
    assert body["flavors"] == ["python_function", "sklearn"]
    assert body["signature"]["inputs"][0]["name"] == "sepal length (cm)"
    assert body["used_by"][0]["job"] == trained_job.name

    api.post(base(workspace), {"path": f"runs:/{trained_job.name}/outputs/model", "version": "7"}, format="json")
    listing = api.get(f"/api/v1/workspaces/{workspace.name}/models/").json()
    assert [(m["name"], m["version"], m["aliases"]) for m in listing["results"]] == [("iris", "7", [])]
    assert [v["version"] for v in api.get(base(workspace)).json()["results"]] == ["7", "1"]
    assert api.get(base(workspace) + "latest/").json()["version"] == "7"
    api.post(base(workspace, "other"), {"path": f"runs:/{trained_job.name}/outputs/model"}, format="json")
    models = f"/api/v1/workspaces/{workspace.name}/models/"
    assert [m["name"] for m in api.get(models).json()["results"]] == ["iris", "other"]
    assert [m["name"] for m in api.get(models, {"name": "oth"}).json()["results"]] == ["other"]
    assert [m["version"] for m in api.get(models, {"tag": "a=1"}).json()["results"]] == []  # only v1 is tagged
    api.patch(base(workspace) + "7/", {"tags": {"a": "2"}}, format="json")
    assert [m["name"] for m in api.get(models, {"tag": "a"}).json()["results"]] == ["iris"]
    assert [m["name"] for m in api.get(models, {"tag": "a=2"}).json()["results"]] == ["iris"]

    files = api.get(base(workspace) + "1/files/").json()["files"]
    assert {"path": "model.pkl", "size": 21} in files
    one = api.get(base(workspace) + "1/files/", {"path": "requirements.txt"})
    assert one.status_code == 200 and b"".join(one.streaming_content).startswith(b"mlflow==")
    for evil in ("../../../etc/passwd", "/etc/passwd", "a/../../x", "nul\x00l"):
        assert api.get(base(workspace) + "1/files/", {"path": evil}).status_code == 400, evil
    assert api.get(base(workspace) + "1/files/", {"path": "missing.txt"}).status_code == 404

    archive = api.get(base(workspace) + "1/download/")
    assert archive["Content-Disposition"].endswith('filename="iris-1.zip"')
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as z:
        assert sorted(z.namelist()) == sorted(f["path"] for f in files)
        assert z.read("model.pkl") == b"\x80\x04pickled-model-bytes"


def test_delete_archives_and_restore_brings_back(workspace, api, trained_job):
    for _ in range(2):
        api.post(base(workspace), {"path": f"runs:/{trained_job.name}/outputs/model"}, format="json")
    assert api.delete(base(workspace) + "2/").status_code == 204
    assert api.get(base(workspace) + "latest/").json()["version"] == "1"
    assert api.get(base(workspace) + "2/").json()["archived"] is True
    listing = api.get(f"/api/v1/workspaces/{workspace.name}/models/").json()["results"]
    assert [m["version"] for m in listing] == ["1"]
    assert api.post(base(workspace) + "2/restore/").json()["archived"] is False
    assert api.get(base(workspace) + "latest/").json()["version"] == "2"


def test_patch_changes_description_and_tags_only(workspace, api, trained_job):
    api.post(base(workspace), {"path": f"runs:/{trained_job.name}/outputs/model"}, format="json")
    changed = api.patch(base(workspace) + "1/", {"description": "v1", "tags": {"k": "v"}}, format="json")
    assert changed.status_code == 200 and changed.json()["tags"] == {"k": "v"}
    refused = api.patch(base(workspace) + "1/", {"path": "runs:/x/y"}, format="json")
    assert refused.status_code == 400 and "immutable" in refused.json()["detail"]
    model = api.patch(
        f"/api/v1/workspaces/{workspace.name}/models/iris/", {"description": "the iris model"}, format="json"
    )
    assert model.json()["description"] == "the iris model"


def test_aliases_and_stages(workspace, api, trained_job):
    for _ in range(2):
        api.post(base(workspace), {"path": f"runs:/{trained_job.name}/outputs/model"}, format="json")
    assert api.post(base(workspace) + "1/aliases/", {"alias": "champion"}, format="json").status_code == 200
    assert api.post(base(workspace) + "2/aliases/", {"alias": "champion"}, format="json").json()["aliases"] == [
        "champion"
    ]
    assert api.get(f"/api/v1/workspaces/{workspace.name}/models/iris/").json()["aliases"] == {"champion": "2"}
    assert api.post(base(workspace) + "2/aliases/", {"alias": "latest"}, format="json").status_code == 400
    assert api.delete(base(workspace) + "1/aliases/?alias=champion").status_code == 400  # it is on 2 now
    assert api.delete(base(workspace) + "2/aliases/?alias=champion").status_code == 204
    staged = api.post(base(workspace) + "2/stage/", {"stage": "production"}, format="json")
    assert staged.json()["stage"] == "Production"
    assert api.post(base(workspace) + "2/stage/", {"stage": "Shipped"}, format="json").status_code == 400


def test_a_yaml_body_and_its_errors(workspace, api, trained_job):
    yaml_body = f"name: iris\nversion: 3\ntype: mlflow_model\npath: runs:/{trained_job.name}/outputs/model\n"
    created = api.generic(
        "POST", f"/api/v1/workspaces/{workspace.name}/models/", yaml_body, content_type="application/yaml"
    )
    assert created.status_code == 201, created.content
    assert created.json()["version"] == "3"
    clash = api.generic(
        "POST", f"/api/v1/workspaces/{workspace.name}/models/", yaml_body, content_type="application/yaml"
    )
    assert clash.status_code == 409 and "iris:3 already exists" in clash.json()["detail"]
    unknown = api.generic(
        "POST", base(workspace), "name: iris\nflavour: x\npath: runs:/a/b\n", content_type="application/yaml"
    )
    assert unknown.status_code == 400 and "'flavour' (line 2)" in unknown.json()["detail"]


def test_uploads_of_a_folder_and_a_zip(workspace, api, tmp_path):
    model_dir = write_mlflow_model(tmp_path / "model")
    body, ctype = multipart([(f"model/{p.name}", p.read_bytes()) for p in model_dir.iterdir()], description="up")
    folder = api.generic("POST", base(workspace), body, content_type=ctype)
    assert folder.status_code == 201, folder.content
    assert (folder.json()["type"], folder.json()["source"], folder.json()["file_count"]) == (
        "mlflow_model",
        "local upload",
        6,
    )

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("weights.bin", b"w")
    body, ctype = multipart([("net.zip", zipped.getvalue())], type="custom_model", version="5")
    created = api.generic("POST", base(workspace, "net"), body, content_type=ctype)
    assert created.status_code == 201, created.content
    assert api.get(base(workspace, "net") + "5/files/").json()["files"] == [{"path": "weights.bin", "size": 1}]

    for evil in ("../../escape.bin", "/etc/escape.bin"):
        body, ctype = multipart([(evil, b"x")])
        assert api.generic("POST", base(workspace, "evil"), body, content_type=ctype).status_code == 400, evil
    body, ctype = multipart([("a.bin", b"x")], path="runs:/j/model")
    assert api.generic("POST", base(workspace, "both"), body, content_type=ctype).status_code == 400
    assert not ModelVersion.objects.filter(model__name__in=["evil", "both"]).exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"path": "azureml://datastores/workspaceblobstore/paths/none/"}, "path"),
        ({"path": "runs:/no-such-run/model"}, "path"),
        ({"path": "RUN", "type": "onnx"}, "type"),
        ({"path": "RUN", "description": "a\x00b"}, "description"),
        ({"path": "RUN", "tags": {"a": "b\x00"}}, "tags"),
        ({"path": "RUN", "version": "latest"}, "version"),
        ({"path": "RUN", "name": "other"}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(workspace, api, trained_job, body, field):
    if body["path"] == "RUN":
        body = {**body, "path": f"runs:/{trained_job.name}/outputs/model"}
    response = api.post(base(workspace), body, format="json")
    assert response.status_code == 400, response.content
    assert any(key.split(".")[0] == field for key in response.json()["errors"]), response.json()


def test_role_contract(workspace, owner, members, outsider, trained_job, api):
    api.post(base(workspace), {"path": f"runs:/{trained_job.name}/outputs/model"}, format="json")
    reader = token_client(members["reader"])
    assert reader.get(base(workspace) + "1/").status_code == 200
    assert reader.get(base(workspace) + "1/files/").status_code == 200
    assert reader.get(base(workspace) + "1/download/").status_code == 200
    writes = [
        ("post", base(workspace), {"path": f"runs:/{trained_job.name}/outputs/model"}),
        ("patch", base(workspace) + "1/", {"description": "x"}),
        ("delete", base(workspace) + "1/", None),
        ("post", base(workspace) + "1/restore/", None),
        ("post", base(workspace) + "1/aliases/", {"alias": "a"}),
        ("post", base(workspace) + "1/stage/", {"stage": "Staging"}),
        ("patch", f"/api/v1/workspaces/{workspace.name}/models/iris/", {"description": "x"}),
    ]
    for method, url, data in writes:
        assert getattr(reader, method)(url, data, format="json").status_code == 403, (method, url)
    compute_operator = token_client(members["compute_operator"])
    assert compute_operator.post(base(workspace) + "1/aliases/", {"alias": "a"}, format="json").status_code == 403
    scientist = token_client(members["data_scientist"])
    assert scientist.post(base(workspace) + "1/aliases/", {"alias": "a"}, format="json").status_code == 200

    stranger = token_client(outsider)
    for url in (
        base(workspace),
        base(workspace) + "1/",
        base(workspace) + "1/files/",
        f"/api/v1/workspaces/{workspace.name}/models/",
    ):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(base(workspace), {"path": "runs:/x/y"}, format="json").status_code == 404
    from rest_framework.test import APIClient

    assert APIClient().get(base(workspace)).status_code == 401
    assert services.get_version(workspace, "iris", "1").aliases.count() == 1
