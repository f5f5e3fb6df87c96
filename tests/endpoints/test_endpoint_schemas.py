"""Online and batch endpoints and deployments on one schema each (endpoints.schema,
endpoints.batch.schema): the API refuses a key it does not know with its line and the key meant,
reports the Azure keys it accepts and ignores, takes back what it answered, and its OpenAPI
document lists the keys the CLI checks files against."""

from __future__ import annotations

import pytest
import yaml

from endpoints.models import OnlineDeployment, OnlineEndpoint
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

ONLINE = "/api/v1/workspaces/{ws}/online-endpoints/"
BATCH = "/api/v1/workspaces/{ws}/batch-endpoints/"


@pytest.fixture
def api(owner):
    return token_client(owner)


def test_a_typo_in_an_endpoint_yaml_is_refused_with_its_line_and_the_key_meant(api, workspace):
    text = "name: typo-ep\nauth_mode: key\ntrafic: {}\n"
    response = api.generic("POST", ONLINE.format(ws=workspace.name), text, content_type="application/yaml")
    assert response.status_code == 400
    [message] = response.json()["errors"]["spec"]
    assert message.startswith("online endpoint: unknown key 'trafic' (line 3). Did you mean 'traffic'?")
    assert not OnlineEndpoint.objects.filter(name="typo-ep").exists()


def test_json_is_checked_by_the_same_schema_and_azure_keys_are_reported(api, workspace):
    url = ONLINE.format(ws=workspace.name)
    typo = api.post(url, {"name": "typo-ep", "auth_mod": "key"}, format="json")
    assert typo.status_code == 400 and "Did you mean 'auth_mode'?" in typo.json()["errors"]["spec"][0]
    created = api.post(url, {"name": "good-ep", "identity": {"type": "system_assigned"}}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["notices"] == ["'identity' is accepted but ignored by Studio."]


def test_what_the_api_answered_may_be_sent_back_with_put(api, workspace):
    url = ONLINE.format(ws=workspace.name)
    shown = api.post(url, {"name": "round-ep", "description": "first"}, format="json").json()
    again = api.put(f"{url}round-ep/", yaml.safe_dump(shown | {"description": "second"}), content_type="text/yaml")
    assert again.status_code == 200, again.content
    assert OnlineEndpoint.objects.get(name="round-ep").description == "second"


def test_a_deployment_typo_is_refused_and_what_the_api_answered_may_be_sent_back(api, workspace, light):
    url = ONLINE.format(ws=workspace.name)
    api.post(url, {"name": "dep-ep"}, format="json")
    deployments = f"{url}dep-ep/deployments/"
    typo = api.post(deployments, {"name": "blue", **light, "instance_cout": 2}, format="json")
    assert typo.status_code == 400
    assert "unknown key 'instance_cout'. Did you mean 'instance_count'?" in typo.json()["errors"]["spec"][0]
    shown = api.post(deployments, {"name": "blue", **light, "compute": "local"}, format="json").json()
    assert shown["name"] == "blue"
    again = api.put(f"{deployments}blue/", shown, format="json")
    assert again.status_code == 200, again.content
    assert OnlineDeployment.objects.get(name="blue").instance_count == shown["instance_count"]


def test_a_batch_deployment_typo_is_refused_with_the_key_meant(api, workspace):
    url = BATCH.format(ws=workspace.name)
    assert api.post(url, {"name": "batch-ep"}, format="json").status_code == 201
    typo = api.post(f"{url}batch-ep/deployments/", {"name": "d1", "compte": "local"}, format="json")
    assert typo.status_code == 400
    assert "unknown key 'compte'. Did you mean 'compute'?" in typo.json()["errors"]["spec"][0]
    typo = api.patch(f"{url}batch-ep/", {"default": {"deployment_name": "d1"}}, format="json")
    assert typo.status_code == 400 and "Did you mean 'defaults'?" in typo.json()["errors"]["spec"][0]


def test_the_openapi_document_lists_each_schema(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemas = document["components"]["schemas"]
    assert {"name", "auth_mode", "traffic", "mirror_traffic", "identity"} <= set(
        schemas["OnlineEndpointSpec"]["properties"]
    )
    deployment = set(schemas["OnlineDeploymentSpec"]["properties"])
    assert {"model", "code_configuration", "environment", "instance_count", "compute", "liveness_probe"} <= deployment
    assert set(schemas["DeploymentCodeSpec"]["properties"]) == {"code", "scoring_script"}
    assert {"name", "defaults"} <= set(schemas["BatchEndpointSpec"]["properties"])
    assert {"compute", "settings", "resources", "mini_batch_size"} <= set(schemas["BatchDeploymentSpec"]["properties"])


@pytest.mark.parametrize("base", [ONLINE, BATCH])
def test_tags_and_text_go_through_the_one_rule_of_each(api, workspace, base):
    url = base.format(ws=workspace.name)
    nested = api.post(url, {"name": "tagged-ep", "tags": {"team": {"nested": "x"}}}, format="json")
    assert nested.status_code == 400 and "tags" in nested.json()["errors"], nested.content
    listed = api.post(url, {"name": "tagged-ep", "description": ["a"]}, format="json")
    assert listed.status_code == 400
    assert listed.json()["errors"]["description"] == ["description must be text, not a list."]
    created = api.post(url, {"name": "tagged-ep", "tags": {"team": "vision"}, "description": " x "}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["tags"] == {"team": "vision"} and created.json()["description"] == "x"
