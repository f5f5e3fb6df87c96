"""The model's one schema (registry.spec.ModelSpec): a JSON body, a YAML body and a multipart
`spec` part say the same thing about the same definition (before, JSON let unknown keys through)."""

from __future__ import annotations

import pytest
import yaml

from registry.models import ModelVersion
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner):
    return token_client(owner)


def url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.name}/models/"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("type", "onnx_model", "Choose one of: custom_model, mlflow_model, triton_model."),
        ("description", {"a": 1}, "description must be text, not a mapping."),
    ],
)
def test_a_json_body_a_yaml_body_and_a_multipart_spec_get_the_same_message(api, workspace, key, value, words):
    body = {"name": "m1", "path": "runs:/nojob/model", key: value}
    as_json = api.post(url(workspace), body, format="json")
    as_yaml = api.generic("POST", url(workspace), yaml.safe_dump(body), content_type="application/yaml")
    as_part = api.post(url(workspace), {"spec": yaml.safe_dump(body)}, format="multipart")
    assert as_json.status_code == as_yaml.status_code == as_part.status_code == 400
    assert as_json.json()["errors"][key] == as_yaml.json()["errors"][key] == as_part.json()["errors"][key] == [words]
    assert not ModelVersion.objects.exists()


def test_an_unknown_key_is_refused_in_json_too_with_the_key_meant(api, workspace):
    response = api.post(url(workspace), {"name": "m1", "pth": "runs:/nojob/model"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["spec"][0].startswith("spec: unknown key 'pth'. Did you mean 'path'?")
    in_yaml = api.generic("POST", url(workspace), "name: m1\nflavour: x\n", content_type="application/yaml")
    assert "'flavour' (line 2). Did you mean 'flavors'?" in in_yaml.json()["errors"]["spec"][0]


def test_the_openapi_document_describes_the_body_with_the_schema(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    keys = set(document["components"]["schemas"]["ModelSpec"]["properties"])
    assert {"name", "version", "type", "path", "description", "tags", "properties", "flavors", "stage"} <= keys
