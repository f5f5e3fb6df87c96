"""The curated inference environment serves a scoring script as shipped: a user deploying a
custom model need not write an environment first, and Azure's inference image names answer to it."""

from __future__ import annotations

from endpoints import instances, keys, services
from environments import curated
from environments.resolve import resolve_environment
from tests.endpoints.conftest import SCORE
from tests.endpoints.helpers import deploy_script, wait_ready


def test_a_script_deployment_scores_in_the_curated_inference_environment(client, workspace, owner, sklearn_model):
    curated.sync()
    version = resolve_environment(workspace, "azureml:AzureML-minimal-ubuntu22.04-py39-cpu-inference@latest")
    assert version.environment.name == "Studio-sklearn-1.9-inference"
    endpoint, _ = deploy_script(workspace, owner, version, SCORE, "curated-ep")
    endpoint = services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)
    try:
        wait_ready(["blue"], timeout=600)  # the first use builds the environment
        key = keys.read(endpoint)["primary"]
        answer = client.post(
            f"/endpoints/{workspace.name}/curated-ep/score",
            {"data": [[3], [10]]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert answer.status_code == 200, answer.content
        assert [round(x) for x in answer.json()["predictions"]] == [6, 20]
    finally:
        instances.stop_all()
