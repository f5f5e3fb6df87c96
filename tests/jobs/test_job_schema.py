"""The command job's one schema (jobs.spec.CommandJobSpec): a JSON body and a YAML `spec` part get
the same words for the same bad value, an input's unknown key is refused by the server as the CLI
refuses it, and the OpenAPI document describes the body (inputs, outputs, limits) with it."""

from __future__ import annotations

import re

import pytest
import yaml

from jobs.models import Job
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

BASE = {"command": "echo hi", "environment": "azureml:nothing:1"}


@pytest.fixture
def api(owner):
    return token_client(owner)


def url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.name}/jobs/"


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ({"limits": {"timeout": 0}}, "limits.timeout", "timeout must be between 1 and 2592000 seconds."),
        ({"limits": {"timeuot": 5}}, "limits", "limits: unknown key 'timeuot'"),
        ({"inputs": {"lr": {"type": "number", "defualt": 0.1}}}, "inputs.lr", "Did you mean 'default'?"),
        ({"resources": {"instance_count": 2}}, "resources.instance_count", "instance_count must be 1."),
        ({"display_name": ["a"]}, "display_name", "display_name must be text, not a list."),
    ],
)
def test_a_json_body_and_a_yaml_spec_get_the_same_message(api, workspace, extra, key, words):
    body = BASE | extra
    as_json = api.post(url(workspace), body, format="json")
    as_yaml = api.post(url(workspace), {"spec": yaml.safe_dump(body)}, format="multipart")
    assert as_json.status_code == as_yaml.status_code == 400, as_json.content
    # the same words; the YAML one also names the line
    assert as_json.json()["errors"][key] == [re.sub(r" \(line \d+\)", "", m) for m in as_yaml.json()["errors"][key]]
    assert words in as_json.json()["errors"][key][0]
    assert not Job.objects.exists()


def test_the_openapi_document_describes_the_body_with_the_schema(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemas = document["components"]["schemas"]
    assert {"command", "environment", "inputs", "limits", "identity"} <= set(schemas["CommandJobSpec"]["properties"])
    assert {"type", "path", "mode", "default"} <= set(schemas["JobInput"]["properties"])
    assert set(schemas["JobLimits"]["properties"]) == {"timeout", "max_retries"}
