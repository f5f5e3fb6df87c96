"""The data asset's one schema (datastores.spec.DataSpec): the JSON body, a YAML body and a
multipart `spec` part say the same thing about the same definition (before, JSON let unknown keys
through, and a multipart spec refused the `datastore:` key a YAML body ignored)."""

from __future__ import annotations

import pytest

from datastores.models import DataVersion
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

PATH = "https://example.com/data.csv"


@pytest.fixture
def api(owner):
    return token_client(owner)


def url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.name}/data/"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("type", "uri_table", "Choose one of: uri_file, uri_folder, mltable."),
        ("version", "latest", "'latest' is a label, not a version."),
        ("description", ["a"], "description must be text, not a list."),
    ],
)
def test_a_json_body_and_a_yaml_body_get_the_same_message(api, workspace, key, value, words):
    import yaml

    body = {"name": "d1", "type": "uri_file", "path": PATH, key: value}
    as_json = api.post(url(workspace), body, format="json")
    as_yaml = api.generic("POST", url(workspace), yaml.safe_dump(body), content_type="application/yaml")
    assert as_json.status_code == as_yaml.status_code == 400
    assert as_json.json()["errors"][key] == as_yaml.json()["errors"][key] == [words]
    assert not DataVersion.objects.filter(asset__name="d1").exists()


def test_an_unknown_key_is_refused_in_json_too_with_the_key_meant(api, workspace):
    response = api.post(url(workspace), {"name": "d1", "type": "uri_file", "pth": PATH}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["spec"][0].startswith("spec: unknown key 'pth'. Did you mean 'path'?")


def test_azure_keys_are_accepted_the_same_way_in_every_body(api, workspace):
    text = f"name: d2\ntype: uri_file\npath: {PATH}\ndatastore: azureml:workspaceblobstore\n"
    as_yaml = api.generic("POST", url(workspace), text, content_type="application/yaml")
    assert as_yaml.status_code == 201, as_yaml.content
    as_part = api.post(url(workspace), {"spec": text.replace("d2", "d3")}, format="multipart")
    assert as_part.status_code == 201, as_part.content
    as_json = api.post(url(workspace), {"name": "d4", "type": "uri_file", "path": PATH, "stage": "x"}, format="json")
    assert as_json.status_code == 201, as_json.content


def test_the_openapi_document_describes_the_body_with_the_schema(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    keys = set(document["components"]["schemas"]["DataSpec"]["properties"])
    assert {"name", "version", "type", "path", "description", "tags", "datastore"} <= keys
