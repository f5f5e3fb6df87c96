"""Azure ML curated environment names resolve to Studio's closest curated environment."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from environments.aliases import studio_name_for
from environments.resolve import resolve_environment
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("ref", "studio_name"),
    [
        ("AzureML-sklearn-1.5@latest", "Studio-sklearn-1.9"),
        ("azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:44", "Studio-sklearn-1.9"),
        ("AzureML-sklearn-1.0-ubuntu20.04-py38-cpu", "Studio-sklearn-1.9"),
        ("azureml:AzureML-pytorch-1.10-ubuntu18.04-py38-cuda11-gpu@latest", "Studio-pytorch-2.13-cpu"),
        ("AzureML-ACPT-pytorch-1.13-py38-cuda11.7-gpu:10", "Studio-pytorch-2.13-cpu"),
        ("AzureML-lightgbm-3.3@latest", "Studio-lightgbm-xgboost"),
        ("AzureML-minimal-ubuntu20.04-py38-cpu:7", "Studio-minimal-py311"),
        ("AzureML-mlflow-ubuntu20.04-py38-cpu@latest", "Studio-sklearn-1.9"),
        ("azureml:AzureML-minimal-ubuntu22.04-py39-cpu-inference@latest", "Studio-sklearn-1.9-inference"),
        ("AzureML-sklearn-1.0-ubuntu20.04-py38-cpu-inference:3", "Studio-sklearn-1.9-inference"),
    ],
)
def test_azure_curated_names_resolve_to_the_closest_studio_curated_environment(workspace, ref, studio_name):
    version = resolve_environment(workspace, ref)
    assert version.environment.name == studio_name
    assert version.environment.workspace_id is None
    assert version.alias_of == ref


def test_an_unknown_azure_curated_name_lists_the_curated_names_on_the_environment_field(workspace):
    with pytest.raises(ValidationError) as exc:
        resolve_environment(workspace, "AzureML-responsibleai-0.21-ubuntu20.04-py38-cpu@latest")
    message = exc.value.message_dict["environment"][0]
    assert "AzureML-responsibleai" in message and "Studio-sklearn-1.9" in message and "Studio-minimal-py311" in message


def test_names_that_are_not_azure_curated_ones_are_not_guessed():
    assert studio_name_for("sklearn-1.5") is None
    assert studio_name_for("AzureML-tensorflow-2.16-cuda12") is None


def test_a_workspace_environment_with_an_azure_name_wins_over_the_alias(workspace, owner):
    from tests.jobs.conftest import make_environment

    own = make_environment(workspace, owner, "AzureML-sklearn-1.5")
    found = resolve_environment(workspace, "AzureML-sklearn-1.5@latest")
    assert found.pk == own.pk and not found.alias_of


def test_the_api_puts_an_unknown_environment_on_the_environment_field_not_version(workspace, owner):
    api = token_client(owner)
    answer = api.get(f"/api/v1/workspaces/{workspace.name}/environments/AzureML-nothing-1.0/versions/latest/")
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert list(errors) == ["environment"] and "Studio-sklearn-1.9" in errors["environment"][0]
    jobs = api.post(
        f"/api/v1/workspaces/{workspace.name}/jobs/",
        {"command": "echo", "environment": "AzureML-nothing-1.0@latest"},
        format="json",
    )
    assert jobs.status_code == 400 and list(jobs.json()["errors"]) == ["environment"]
