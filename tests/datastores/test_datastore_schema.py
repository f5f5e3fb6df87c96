"""The datastore's one schema (datastores.spec.DatastoreSpec): a JSON body, a datastore YAML body
and the register page say the same thing about the same definition (before, JSON let unknown keys
through and a YAML body refused them), credentials stay write-only, and the OpenAPI document lists
the keys the CLI checks files against."""

from __future__ import annotations

import pytest
import yaml

from datastores.models import Datastore
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner):
    return token_client(owner)


def url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.name}/datastores/"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("type", "azure_files", "Choose one of: local, azure_blob, s3."),
        ("description", ["a"], "description must be text, not a list."),
        ("region", "x" * 41, "region is longer than 40 characters."),
    ],
)
def test_a_json_body_and_a_yaml_body_get_the_same_message(api, workspace, local_folder, key, value, words):
    body = {"name": "share", "type": "local", "path": str(local_folder), key: value}
    as_json = api.post(url(workspace), body, format="json")
    as_yaml = api.generic("POST", url(workspace), yaml.safe_dump(body), content_type="application/yaml")
    assert as_json.status_code == as_yaml.status_code == 400, (as_json.content, as_yaml.content)
    assert as_json.json()["errors"][key] == as_yaml.json()["errors"][key] == [words]
    assert not Datastore.objects.filter(workspace=workspace, name="share").exists()


def test_an_unknown_key_is_refused_in_json_too_with_the_key_meant(api, workspace, local_folder):
    response = api.post(url(workspace), {"name": "share", "type": "local", "pth": str(local_folder)}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["spec"][0].startswith("spec: unknown key 'pth'. Did you mean 'path'?")


def test_a_yaml_body_names_the_line_of_an_unknown_key(api, workspace, local_folder):
    text = f"name: share\ntype: local\npath: {local_folder}\ncontainer: x\n"
    response = api.generic("POST", url(workspace), text, content_type="application/yaml")
    assert response.status_code == 400
    [message] = response.json()["errors"]["spec"]
    assert message.startswith("datastore YAML: unknown key 'container' (line 4). Did you mean 'container_name'?")


def test_a_patch_is_checked_by_the_same_schema(api, workspace, local_folder):
    assert (
        api.post(
            url(workspace), {"name": "share", "type": "local", "path": str(local_folder)}, format="json"
        ).status_code
        == 201
    )
    typo = api.patch(url(workspace) + "share/", {"descripton": "x"}, format="json")
    assert typo.status_code == 400
    assert "Did you mean 'description'?" in typo.json()["errors"]["spec"][0]
    renamed = api.patch(url(workspace) + "share/", {"type": "s3"}, format="json")
    assert renamed.status_code == 400
    assert renamed.json()["errors"]["type"] == ["A datastore's type cannot change; register a new one."]
    assert api.patch(url(workspace) + "share/", {"description": "kept"}, format="json").status_code == 200
    assert Datastore.objects.get(workspace=workspace, name="share").description == "kept"


def test_azure_keys_are_accepted_and_reported_and_a_name_and_type_are_required(api, workspace, local_folder):
    text = f"name: share\ntype: local\npath: {local_folder}\nproperties: {{owner: ml}}\n"
    created = api.generic("POST", url(workspace), text, content_type="application/yaml")
    assert created.status_code == 201, created.content
    assert created.json()["notices"] == ["'properties' (line 4) is accepted but ignored by Studio."]
    nameless = api.post(url(workspace), {"path": str(local_folder)}, format="json")
    assert nameless.status_code == 400
    assert nameless.json()["errors"] == {"name": ["This field is required."], "type": ["This field is required."]}


def test_credentials_that_are_not_a_mapping_are_a_clear_400(api, workspace):
    body = {"name": "blob", "type": "azure_blob", "account_name": "a", "container_name": "c", "credentials": "k"}
    response = api.post(url(workspace), body, format="json")
    assert response.status_code == 400
    assert "credentials" in response.json()["errors"]


def test_the_register_page_speaks_with_the_schema(client, owner, workspace):
    client.force_login(owner)
    page = f"/w/{workspace.name}/datastores/new/"
    response = client.post(page, {"name": "blob", "type": "s3", "region": "x" * 41, "bucket": "b"})
    assert response.status_code == 400
    assert "region is longer than 40 characters." in response.content.decode()
    assert not Datastore.objects.filter(workspace=workspace, name="blob").exists()


def test_the_openapi_document_lists_the_keys_and_credentials_are_write_only(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schema = document["components"]["schemas"]["DatastoreSpec"]
    keys = set(schema["properties"])
    assert {"name", "type", "path", "account_name", "bucket", "credentials", "file_share_name"} <= keys
    assert schema["properties"]["credentials"]["writeOnly"] is True
    assert "credentials" not in document["components"]["schemas"]["Datastore"]["properties"]


def test_a_malformed_account_name_is_named_on_its_own_field(client, api, owner, workspace):
    client.force_login(owner)
    page = f"/w/{workspace.name}/datastores/new/"
    body = {"name": "blob", "type": "azure_blob", "account_name": "My Account", "container_name": "c"}
    response = client.post(page, body | {"credential_kind": "account_key", "account_key": "k"})
    assert response.status_code == 400
    assert response.context["form"].errors["account_name"] == [
        "A storage account name has only lowercase letters and digits (as in its URL), e.g. mystorageacct."
    ]
    assert "endpoint" not in response.context["form"].errors  # the host name built from it is not blamed
    refused = api.post(url(workspace), body | {"credentials": {"account_key": "k"}}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["account_name"]
    assert not Datastore.objects.filter(workspace=workspace, name="blob").exists()
