"""The environment's one schema (environments.spec.EnvironmentSpec): a JSON body and a YAML body
get the same words for the same bad value, and the OpenAPI document describes the body with it."""

from __future__ import annotations

import pytest

from environments.models import Environment
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/ws-main/environments/"


@pytest.fixture
def api(owner, workspace):
    return token_client(owner)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("description", ["a", "list"], "description must be text, not a list."),
        ("os_type", "windows", "Studio builds and runs Linux environments only (os_type: linux)."),
        ("user_managed_dependencies", "maybe", "user_managed_dependencies is true or false."),
        ("build", "ctx", "build must be a mapping: {path: <folder>, dockerfile_path: Dockerfile}."),
    ],
)
def test_a_json_body_and_a_yaml_body_get_the_same_message(api, key, value, words):
    import yaml

    body = {"name": "env-a", "image": "studio/base:bookworm", key: value}
    as_json = api.post(URL, body, format="json")
    as_yaml = api.generic("POST", URL, yaml.safe_dump(body), content_type="application/yaml")
    assert as_json.status_code == as_yaml.status_code == 400
    assert as_json.json()["errors"][key] == as_yaml.json()["errors"][key] == [words]
    assert not Environment.objects.filter(name="env-a").exists()


def test_an_unknown_key_names_its_line_and_the_key_meant(api):
    text = "name: env-a\nimgae: studio/base:bookworm\n"
    errors = api.generic("POST", URL, text, content_type="application/yaml").json()["errors"]
    assert errors["spec"][0].startswith("YAML body: unknown key 'imgae' (line 2). Did you mean 'image'?")


def test_the_openapi_document_describes_the_body_with_the_schema(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemas = document["components"]["schemas"]
    keys = set(schemas["EnvironmentSpec"]["properties"])
    assert {"name", "image", "conda_file", "build", "inference_config"} <= keys
    assert set(schemas["BuildSection"]["properties"]) == {"path", "dockerfile_path", "dockerfile"}
