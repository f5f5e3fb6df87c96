"""Compute's one schema (compute.spec.ComputeSpec): the JSON body, a YAML body, a YAML file on the
page and the create form say the same words about the same bad value, and the OpenAPI document
describes the body with it (the CLI reads its keys from there)."""

import pytest

from compute.models import ComputeTarget
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/ws-main/computes/"


@pytest.fixture
def api(owner):
    return token_client(owner)


@pytest.fixture
def browser(client, owner):
    client.force_login(owner)
    return client


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("memory_mb", 12, "memory_mb must be at least 128, not 12."),
        ("max_instances", 0, "max_instances must be at least 1, not 0."),
        ("cpu_cores", -1, "cpu_cores must be more than 0, not -1."),
        ("idle_time_before_scale_down", "soon", "idle_time_before_scale_down must be a whole number, not 'soon'."),
    ],
)
def test_the_api_the_yaml_body_and_the_form_give_the_same_message(api, browser, workspace, key, value, words):
    body = {"name": "c1", "type": "amlcompute", "size": "custom", "cpu_cores": 2, "memory_mb": 1024, key: value}
    as_json = api.post(URL, body, format="json")
    text = "".join(f"{k}: {v}\n" for k, v in body.items())
    as_yaml = api.generic("POST", URL, text, content_type="application/yaml")
    assert as_json.status_code == as_yaml.status_code == 400
    assert as_json.json()["errors"][key] == as_yaml.json()["errors"][key] == [words]
    form = {"type": "cluster", "backend": "venv", "idle_time_before_scale_down": "120", "min_instances": "0"}
    form |= {"max_instances": "1", "tier": "dedicated"} | {k: str(v) for k, v in body.items() if k != "type"}
    page = browser.post("/w/ws-main/compute/new/", form).content.decode()
    if value != "soon":  # a number box: the form reads the number, the schema judges it
        assert words in page
    assert not ComputeTarget.objects.filter(name="c1").exists()


def test_an_unknown_key_names_its_line_and_the_key_meant(api, workspace):
    text = "name: c1\ntype: amlcompute\nmax_instanses: 3\n"
    errors = api.generic("POST", URL, text, content_type="application/yaml").json()["errors"]
    assert errors["max_instanses"][0].startswith("Unknown key (line 3). Did you mean 'max_instances'?")
    misplaced = api.post(URL, {"name": "c1", "type": "docker", "min_instances": 1}, format="json").json()
    assert misplaced["errors"]["min_instances"] == ["Not a setting of a docker target."]


def test_a_bad_name_and_a_rule_across_keys_are_reported_together(api, workspace):
    response = api.post(
        URL, {"name": "1st", "type": "amlcompute", "min_instances": 3, "max_instances": 2}, format="json"
    )
    assert set(response.json()["errors"]) == {"name", "min_instances"}


def test_the_openapi_document_describes_the_body_with_the_schema(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    spec = response.json()["components"]["schemas"]["ComputeSpec"]
    keys = set(spec["properties"])
    assert {"name", "type", "max_instances", "docker_host", "tls"} <= keys
    assert "location" in keys and "ignores" in spec["properties"]["location"]["description"]
    assert spec["properties"]["memory_mb"]["minimum"] == 128
    assert set(spec["required"]) == {"name", "type"}
