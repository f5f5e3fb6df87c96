"""Online endpoints: validation through the REST API, and a real deployment (Azure's inference
server in the sandbox, a scikit-learn model) invoked through the scoring URI."""

from __future__ import annotations

import os
import signal
import time

from endpoints import instances, keys, services
from endpoints.models import DeploymentInstance, InstanceStatus
from tests.conftest import token_client
from tests.endpoints.helpers import deploy_script, reconcile_here, wait_ready

API = "/api/v1/workspaces/{ws}/online-endpoints/"


def test_endpoint_traffic_and_deployment_validation_are_clear_400s(workspace, owner, light):
    api = token_client(owner)
    url = API.format(ws=workspace.name)
    assert api.post(url, {"name": "doubler-ep", "auth_mode": "key"}, format="json").status_code == 201
    assert api.post(url, {"name": "doubler-ep"}, format="json").status_code == 409
    bad = api.post(url, {"name": "x", "auth_mode": "password"}, format="json")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    bad = api.post(url, {"name": "other-ep", "auth_mode": "password"}, format="json")
    assert bad.status_code == 400 and "auth_mode" in bad.json()["errors"]

    deployments = f"{url}doubler-ep/deployments/"
    created = api.post(deployments, {"name": "blue", **light}, format="json")
    assert created.status_code == 201, created.json()
    missing_script = light | {
        "code_configuration": {"code": light["code_configuration"]["code"], "scoring_script": "nope.py"}
    }
    bad = api.post(deployments, {"name": "green", **missing_script}, format="json")
    assert bad.status_code == 400 and "nope.py" in bad.json()["errors"]["code_configuration"][0]
    bad = api.post(deployments, {"name": "green", **light, "model": "azureml:doubler:9"}, format="json")
    assert bad.status_code == 400 and "model" in bad.json()["errors"]

    bad = api.patch(f"{url}doubler-ep/", {"traffic": {"blue": 90, "green": 10}}, format="json")
    assert bad.status_code == 400 and "green" in bad.json()["errors"]["traffic"][0]
    bad = api.patch(f"{url}doubler-ep/", {"traffic": {"blue": 90}}, format="json")
    assert bad.status_code == 400 and "90" in bad.json()["errors"]["traffic"][0]
    ok = api.patch(f"{url}doubler-ep/", {"traffic": {"blue": 100}}, format="json")
    assert ok.status_code == 200 and ok.json()["traffic"] == {"blue": 100}
    # A deployment that still takes traffic cannot be deleted.
    assert api.delete(f"{deployments}blue/").status_code == 400


def test_keys_are_for_writers_and_stored_encrypted(workspace, owner, members):
    endpoint = services.do_create_endpoint(workspace, {"name": "keyed-ep"}, actor=owner)
    found = token_client(owner).get(API.format(ws=workspace.name) + "keyed-ep/keys/").json()
    assert found["primary_key"] not in endpoint.keys_encrypted
    assert keys.matches(endpoint, found["secondary_key"]) and not keys.matches(endpoint, "guess")
    reader = token_client(members["reader"])
    assert reader.get(API.format(ws=workspace.name) + "keyed-ep/keys/").status_code == 403
    assert reader.get(API.format(ws=workspace.name) + "keyed-ep/").status_code == 200


def _listening_on(port: int) -> set[str]:
    """The local addresses (hex, as the kernel lists them) with a listening TCP socket on `port`."""
    found = set()
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hexport = local.split(":")
        if state == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
            found.add(address)
    return found


def test_a_sklearn_model_deployed_and_scored_through_the_router(
    client, workspace, owner, serve_env, sklearn_model, score_code
):
    env_version, _ = serve_env
    endpoint = services.do_create_endpoint(workspace, {"name": "doubler-ep"}, actor=owner)
    common = {
        "model": "azureml:doubler:1",
        "environment": f"azureml:{env_version.environment.name}:{env_version.version}",
        "code_configuration": {"code": score_code.pk, "scoring_script": "score.py"},
    }
    for name in ("blue", "green"):
        services.do_create_deployment(
            endpoint, {"name": name, **common, "environment_variables": {"WHO": name}}, actor=owner
        )
    endpoint = services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)
    try:
        wait_ready(["blue", "green"])
        key = keys.read(endpoint)["primary"]
        url = f"/endpoints/{workspace.name}/doubler-ep/score"
        body = {"data": [[3], [10]]}

        answer = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert answer.status_code == 200, answer.content
        assert answer.json()["who"] == "blue"
        assert [round(x) for x in answer.json()["predictions"]] == [6, 20]

        override = client.post(
            url,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
            HTTP_AZUREML_MODEL_DEPLOYMENT="green",
        )
        assert override.status_code == 200 and override.json()["who"] == "green"

        wrong = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION="Bearer wrong")
        assert wrong.status_code == 401
        assert client.post(url, body, content_type="application/json").status_code == 401
        not_json = client.post(url, "{nope", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert not_json.status_code == 400

        # The server has no auth of its own: it listens on loopback only, never on the network.
        instance = DeploymentInstance.objects.get(deployment__name="blue")
        assert _listening_on(instance.port) == {"0100007F"}  # 127.0.0.1, not 00000000 (every address)

        # A dead instance is started again by the next reconcile.
        blue = DeploymentInstance.objects.get(deployment__name="blue")
        os.killpg(blue.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while instances._alive(blue.pk) and time.monotonic() < deadline:
            time.sleep(0.1)
        wait_ready(["blue", "green"])
        blue.refresh_from_db()
        assert blue.restarts == 1
        again = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert again.status_code == 200 and again.json()["who"] == "blue"
    finally:
        instances.stop_all()


def test_a_workspace_with_deployments_can_be_deleted(workspace, owner, light):
    from studio.models import Workspace
    from studio.services import do_delete_workspace

    endpoint = services.do_create_endpoint(workspace, {"name": "doomed-ep"}, actor=owner)
    services.do_create_deployment(endpoint, {"name": "blue", **light}, actor=owner)
    do_delete_workspace(workspace, actor=owner, confirm=workspace.name)
    assert not Workspace.objects.filter(pk=workspace.pk).exists()


def test_the_traffic_split_is_exact_and_interleaved():
    from endpoints.routes import Mirror, Split

    split = Split({"blue": 90, "green": 10, "red": 0})
    picks = [split.pick() for _ in range(1000)]
    assert picks.count("green") == 100 and "red" not in picks
    # Interleaved, not 900 blues then 100 greens: every run of 10 picks holds one green.
    assert all(picks[i : i + 10].count("green") == 1 for i in range(0, 1000, 10))
    assert Split({"blue": 0}).pick() is None
    mirror = Mirror("green", 10)
    assert [mirror.pick() for _ in range(100)].count("green") == 10


def test_token_endpoints_take_members_tokens_and_the_router_refuses_strangers(
    client, settings, workspace, owner, outsider, light
):
    from studio.services import do_create_token

    endpoint = services.do_create_endpoint(workspace, {"name": "token-ep", "auth_mode": "aml_token"}, actor=owner)
    services.do_create_deployment(endpoint, {"name": "blue", **light}, actor=owner)
    services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)
    url = f"/endpoints/{workspace.name}/token-ep/score"

    def post(token, body=b"{}"):
        return client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

    _, member_token = do_create_token(user=owner, name="score")
    _, stranger_token = do_create_token(user=outsider, name="score")
    assert post(stranger_token).status_code == 401
    assert post(keys.read(endpoint)["primary"]).status_code == 401  # keys are not tokens
    # Authorised, but nothing is running: the router says so instead of failing.
    assert post(member_token).status_code == 503
    assert (
        client.post(f"/endpoints/{workspace.name}/no-such-ep/score", b"{}", content_type="application/json").status_code
        == 401
    )
    settings.STUDIO_SCORE_MAX_BYTES = 1024
    assert post(member_token, b"[" + b"0," * 1000 + b"0]").status_code == 413


def test_an_instance_whose_init_fails_shows_its_log(workspace, owner, serve_env, sklearn_model):
    env_version, _ = serve_env
    broken = "def init():\n    raise RuntimeError('the model file is corrupt')\n\ndef run(raw):\n    return raw\n"
    deploy_script(workspace, owner, env_version, broken, "broken-ep")
    api = token_client(owner)
    url = API.format(ws=workspace.name) + "broken-ep/deployments/blue/"
    try:
        deadline = time.monotonic() + 90
        shown = ""
        while time.monotonic() < deadline and "the model file is corrupt" not in shown:
            reconcile_here()
            time.sleep(1)
            shown = " ".join(i["detail"] for i in api.get(url).json()["instances"])
        assert "the model file is corrupt" in shown
        assert "Traceback" in shown and "RuntimeError" in shown  # the log's tail, from its stream
        assert "the model file is corrupt" in api.get(url + "logs/").json()["content"]
        assert DeploymentInstance.objects.get().status != InstanceStatus.READY
    finally:
        instances.stop_all()
