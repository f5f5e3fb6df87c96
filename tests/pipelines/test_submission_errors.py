"""Bad pipelines and components are refused at submission, with the field and the YAML line; a
member without the right, or another workspace, gets nothing."""

from __future__ import annotations

import pytest

from jobs.models import Job
from pipelines.models import ComponentVersion
from tests.conftest import token_client
from tests.factories import make_workspace
from tests.pipelines.conftest import prep_component, train_component

YAML = "application/yaml"


@pytest.fixture
def api(owner):
    return token_client(owner)


@pytest.fixture
def train(workspace, owner, plain_env, codes, api):
    answer = api.post(
        f"/api/v1/workspaces/{workspace.name}/components/", train_component(codes["train"]), format="json"
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def _post_yaml(api, workspace, text: str):
    return api.generic("POST", f"/api/v1/workspaces/{workspace.name}/jobs/", text, content_type=YAML)


def _errors(answer) -> str:
    assert answer.status_code == 400, answer.content
    return str(answer.json())


def test_a_component_is_created_versioned_listed_and_archived_through_the_api(api, workspace, train, codes):
    assert train["name"] == "train" and train["version"] == "1" and train["type"] == "command"
    assert train["environment"] == "azureml:plain:1" and train["code"] == codes["train"]
    assert train["inputs"]["note"] == {"type": "string", "optional": True}
    base = f"/api/v1/workspaces/{workspace.name}/components/train/versions/"
    again = api.post(base, {**train_component(codes["train"])}, format="json")
    assert again.status_code == 409 and "immutable" in str(again.json())
    unnumbered = {k: v for k, v in train_component(codes["train2"]).items() if k != "version"}
    assert api.post(base, unnumbered, format="json").json()["version"] == "2"
    assert api.get(base + "latest/").json()["version"] == "2"
    assert [c["version"] for c in api.get(f"/api/v1/workspaces/{workspace.name}/components/").json()["results"]] == [
        "2"
    ]
    assert api.delete(base + "2/").status_code == 204
    assert api.get(base + "latest/").json()["version"] == "1", "an archived version is not the latest"
    assert api.post(base + "2/restore/").json()["archived"] is False


def test_a_bad_component_says_what_and_where(api, workspace, plain_env):
    text = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: bad
type: command
inputs:
  data: {type: uri_folder}
  extra: {type: string, optional: true}
environment: azureml:plain:1
command: python x.py ${{inputs.data}} --extra ${{inputs.extra}} ${{outputs.model}}
"""
    answer = api.generic("POST", f"/api/v1/workspaces/{workspace.name}/components/", text, content_type=YAML)
    assert "no output 'model'" in _errors(answer) or "optional" in _errors(answer)
    assert "(line 8)" in _errors(answer)
    wrong_type = text.replace("{type: uri_folder}", "{type: folder}")
    answer = api.generic("POST", f"/api/v1/workspaces/{workspace.name}/components/", wrong_type, content_type=YAML)
    assert "Unsupported input type 'folder' (line 5)" in _errors(answer)


PIPELINE = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
settings:
  default_compute: azureml:local
jobs:
  first:
    component: azureml:train@latest
    inputs:
      data: ${{parent.jobs.second.outputs.model}}
  second:
    component: azureml:train:1
    inputs:
      data: ${{parent.jobs.first.outputs.model}}
"""


def test_a_typo_in_a_step_or_the_settings_is_refused_with_its_line_and_the_key_meant(api, workspace, train):
    typo = PIPELINE.replace("    component: azureml:train:1", "    componnet: azureml:train:1")
    errors = _errors(_post_yaml(api, workspace, typo))
    assert "step second: unknown key 'componnet' (line 11). Did you mean 'component'?" in errors
    typo = PIPELINE.replace("default_compute:", "default_comput:")
    errors = _errors(_post_yaml(api, workspace, typo))
    assert "settings: unknown key 'default_comput' (line 4). Did you mean 'default_compute'?" in errors
    assert not Job.objects.filter(workspace=workspace).exists()


def test_a_cycle_is_refused_with_its_steps_and_line(api, workspace, train):
    errors = _errors(_post_yaml(api, workspace, PIPELINE))
    assert "cycle" in errors and "first" in errors and "second" in errors and "(line " in errors
    assert not Job.objects.filter(workspace=workspace).exists(), "nothing was created"


def test_bindings_to_a_missing_step_or_output_are_refused_with_the_line(api, workspace, train):
    missing_step = PIPELINE.replace("parent.jobs.second.outputs.model", "parent.jobs.nope.outputs.model")
    errors = _errors(_post_yaml(api, workspace, missing_step))
    assert "names the step 'nope', which is not in this pipeline" in errors and "(line 9)" in errors
    missing_output = PIPELINE.replace("parent.jobs.second.outputs.model", "parent.jobs.second.outputs.weights")
    errors = _errors(_post_yaml(api, workspace, missing_output))
    assert "step 'second' has no output 'weights' (it has: model)" in errors and "(line 9)" in errors
    missing_parent = PIPELINE.replace("parent.jobs.second.outputs.model", "parent.inputs.rows")
    assert "pipeline input 'rows', which does not exist" in _errors(_post_yaml(api, workspace, missing_parent))


def test_a_type_mismatch_is_refused(api, workspace, train, codes):
    api.post(f"/api/v1/workspaces/{workspace.name}/components/", prep_component(codes["prep"]), format="json")
    text = """\
type: pipeline
inputs:
  rows: 5
jobs:
  prep:
    component: azureml:prep:1
    inputs:
      n: ${{parent.inputs.rows}}
  train:
    component: azureml:train:1
    inputs:
      data: ${{parent.jobs.prep.outputs.clean}}
      lr: ${{parent.jobs.prep.outputs.clean}}
"""
    errors = _errors(_post_yaml(api, workspace, text))
    assert (
        "Type mismatch (line 13): prep.outputs.clean is uri_folder, but input 'lr' of step 'train' is number" in errors
    )
    literal_into_data = text.replace("data: ${{parent.jobs.prep.outputs.clean}}", "data: 3").replace(
        "lr: ${{parent.jobs.prep.outputs.clean}}", "lr: 0.1"
    )
    assert "Type mismatch (line 12)" in _errors(_post_yaml(api, workspace, literal_into_data))
    not_a_number = text.replace("lr: ${{parent.jobs.prep.outputs.clean}}", "lr: fast")
    assert "'fast' is not a valid number" in _errors(_post_yaml(api, workspace, not_a_number))


def test_an_unknown_component_version_is_refused(api, workspace, train):
    errors = _errors(_post_yaml(api, workspace, PIPELINE.replace("azureml:train:1", "azureml:train:9")))
    assert "Unknown component version train:9 (there is: 1)" in errors
    errors = _errors(_post_yaml(api, workspace, PIPELINE.replace("azureml:train@latest", "azureml:nothing@latest")))
    assert "Unknown component 'nothing'" in errors


def test_a_required_input_left_out_and_an_unknown_input_are_refused(api, workspace, train):
    text = "type: pipeline\njobs:\n  t:\n    component: azureml:train:1\n"
    assert "the required input 'data' of train:1 is not given" in _errors(_post_yaml(api, workspace, text))
    text += "    inputs:\n      datta: 1\n"
    assert "has no input 'datta' (line 6)" in _errors(_post_yaml(api, workspace, text))


def test_readers_cannot_create_components_and_other_workspaces_see_none(members, workspace, owner, outsider, train):
    reader = token_client(members["reader"])
    base = f"/api/v1/workspaces/{workspace.name}/components/"
    assert reader.get(base).status_code == 200
    assert reader.post(base, {"name": "x"}, format="json").status_code == 403
    assert reader.delete(base + "train/versions/1/").status_code == 403
    assert token_client(outsider).get(base + "train/versions/1/").status_code == 404
    other = make_workspace(outsider, "elsewhere")
    errors = _errors(
        token_client(outsider).generic(
            "POST", f"/api/v1/workspaces/{other.name}/jobs/", PIPELINE.replace("@latest", ":1"), content_type=YAML
        )
    )
    assert "Unknown component" in errors, "a component of another workspace is not found"
    assert ComponentVersion.objects.filter(workspace=other).count() == 0


def test_an_unknown_default_datastore_is_refused(api, workspace, plain_env):
    text = (
        "type: pipeline\nsettings:\n  default_datastore: azureml:nowhere\njobs:\n  only:\n    type: command\n"
        "    environment: azureml:plain:1\n    command: echo hi\n"
    )
    assert "There is no datastore 'nowhere' in ws-main" in _errors(_post_yaml(api, workspace, text))
