"""`studio online-endpoint …` and `studio online-deployment …` with Azure's YAML files as they
are: a local model folder and code folder uploaded, keys read and regenerated, traffic moved, bad
files and bad values reported in one line; and a real deployment invoked and its log read."""

from __future__ import annotations

import json
import subprocess
import time

from endpoints import keys
from endpoints.models import DeploymentInstance, OnlineEndpoint
from tests.cli.conftest import write
from tests.endpoints.conftest import SCORE, TRAIN, serve_env  # noqa: F401 - fixture
from tests.endpoints.running import Reconciler
from tests.jobs.conftest import make_environment

ENDPOINT_YML = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: doubler-ep
auth_mode: key
description: Doubles numbers
"""

DEPLOYMENT_YML = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: {name}
endpoint_name: doubler-ep
model:
  path: ./model
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
environment: {environment}
instance_type: Standard_DS3_v2
instance_count: 1
environment_variables:
  WHO: {name}
"""


def _files(folder, environment: str, model_bytes: bytes = b"weights") -> None:
    write(folder, "endpoint.yml", ENDPOINT_YML)
    for name in ("blue", "green"):
        write(folder, f"{name}-deployment.yml", DEPLOYMENT_YML.format(name=name, environment=environment))
    write(folder, "onlinescoring/score.py", SCORE)
    (folder / "model").mkdir(exist_ok=True)
    (folder / "model" / "model.pkl").write_bytes(model_bytes)
    write(folder, "request.json", json.dumps({"data": [[3], [10]]}))


def test_endpoint_and_deployments_from_yaml_files_keys_traffic_and_bad_input(cli, alice, alice_workspace):
    make_environment(alice_workspace, alice, "plain")
    _files(cli.cwd, "azureml:plain:1")

    created = cli("online-endpoint", "create", "--file", "endpoint.yml", "-o", "json")
    assert created.code == 0, created
    assert json.loads(created.out)["scoring_uri"].endswith("/endpoints/ws-cli/doubler-ep/score")
    again = cli("online-endpoint", "create", "--file", "endpoint.yml")
    assert again.code == 1 and "already exists" in again.err

    blue = cli("online-deployment", "create", "--file", "blue-deployment.yml", "--all-traffic", "-o", "json")
    assert blue.code == 0, blue
    assert json.loads(blue.out)["model"] == "azureml:doubler-ep-blue-model:1"
    endpoint = OnlineEndpoint.objects.get(workspace=alice_workspace, name="doubler-ep")
    assert endpoint.traffic == {"blue": 100}
    deployment = endpoint.deployments.get(name="blue")
    assert deployment.environment_variables == {"WHO": "blue"}
    assert (deployment.code.path / "score.py").read_text() == SCORE
    assert cli("online-deployment", "create", "--file", "green-deployment.yml").code == 0

    listed = cli("online-endpoint", "list", "-o", "json")
    assert [(e["name"], e["traffic"]) for e in json.loads(listed.out)] == [("doubler-ep", {"blue": 100})]
    table = cli("online-deployment", "list", "--endpoint-name", "doubler-ep")
    assert "blue" in table.out and "green" in table.out and "doubler-ep-green-model:1" in table.out

    found = json.loads(cli("online-endpoint", "get-credentials", "--name", "doubler-ep", "-o", "json").out)
    assert found == {"primaryKey": keys.read(endpoint)["primary"], "secondaryKey": keys.read(endpoint)["secondary"]}
    assert cli("online-endpoint", "regenerate-keys", "--name", "doubler-ep", "--key-type", "secondary").code == 0
    endpoint.refresh_from_db()
    assert keys.read(endpoint)["secondary"] != found["secondaryKey"]
    assert keys.read(endpoint)["primary"] == found["primaryKey"]

    moved = cli("online-endpoint", "update", "--name", "doubler-ep", "--traffic", "blue=90 green=10")
    assert moved.code == 0, moved
    endpoint.refresh_from_db()
    assert endpoint.traffic == {"blue": 90, "green": 10}
    bad = cli("online-endpoint", "update", "--name", "doubler-ep", "--traffic", "blue=90 red=10")
    assert bad.code == 1 and "'red'" in bad.err and "blue, green" in bad.err
    bad = cli("online-endpoint", "update", "--name", "doubler-ep", "--traffic", "blue=ninety")
    assert bad.code == 1 and "deployment=percent" in bad.err

    scaled = cli(
        "online-deployment", "update", "--name", "green", "--endpoint-name", "doubler-ep", "--set", "instance_count=2"
    )
    assert scaled.code == 0, scaled
    assert endpoint.deployments.get(name="green").instance_count == 2
    too_many = cli("online-deployment", "update", "-n", "green", "-e", "doubler-ep", "--set", "instance_count=99")
    assert too_many.code == 1 and "instance_count is a whole number from 1 to 8" in too_many.err

    still = cli("online-deployment", "delete", "-n", "green", "-e", "doubler-ep", "--yes")
    assert still.code == 1 and "still takes 10% of the traffic" in still.err
    assert cli("online-endpoint", "delete", "--name", "doubler-ep", "--yes").code == 0
    assert not OnlineEndpoint.objects.filter(pk=endpoint.pk).exists()
    gone = cli("online-endpoint", "show", "--name", "doubler-ep")
    assert gone.code == 1


BAD_FILES = [
    (
        DEPLOYMENT_YML.replace("instance_count: 1", "instance_cout: 1"),
        "blue.yml, line 11: unknown key 'instance_cout'. Did you mean 'instance_count'?",
    ),
    (
        DEPLOYMENT_YML.replace("scoring_script: score.py", "scoring_script: nope.py"),
        "blue.yml, line 8: 'nope.py' is not in",
    ),
    (DEPLOYMENT_YML.replace("path: ./model", "path: ./missing"), "blue.yml, line 5: path './missing': no such"),
    (DEPLOYMENT_YML.replace("{environment}", "azureml:nothing:1"), "blue.yml, line 9: environment:"),
    (DEPLOYMENT_YML.replace("endpoint_name: doubler-ep", "endpoint_name: nosuch-ep"), "no online endpoint nosuch-ep"),
]


def test_a_bad_deployment_file_is_one_line_naming_the_file_and_line(cli, alice, alice_workspace):
    make_environment(alice_workspace, alice, "plain")
    _files(cli.cwd, "azureml:plain:1")
    assert cli("online-endpoint", "create", "--file", "endpoint.yml").code == 0
    for text, error in BAD_FILES:
        write(cli.cwd, "blue.yml", text.format(name="blue", environment="azureml:plain:1"))
        result = cli("online-deployment", "create", "--file", "blue.yml")
        assert result.code == 1 and error in result.err, result
    assert not OnlineEndpoint.objects.get(name="doubler-ep").deployments.exists()
    from registry.models import Model

    assert not Model.objects.filter(name="nosuch-ep-blue-model").exists()  # checked before uploading


def test_a_real_deployment_invoked_and_its_log_read_from_the_cli(
    transactional_db,
    serve_env,  # noqa: F811 - before the live server: a build beside it stalled it
    cli,
    alice,
    alice_workspace,
    tmp_path,
):
    env_version, python = serve_env
    # The environment was built in the fixture's workspace; alice's gets the same definition
    # (same spec hash: the build is reused).
    from environments.models import EnvironmentVersion

    make_environment(alice_workspace, alice, "sklearn-serve", conda_file=env_version.conda_file)
    assert EnvironmentVersion.objects.filter(spec_hash=env_version.spec_hash).count() == 2
    subprocess.run([python, "-c", TRAIN, str(tmp_path / "model.pkl")], check=True, timeout=120)
    _files(cli.cwd, "azureml:sklearn-serve:1", model_bytes=(tmp_path / "model.pkl").read_bytes())
    assert cli("online-endpoint", "create", "--file", "endpoint.yml").code == 0
    assert cli("online-deployment", "create", "--file", "blue-deployment.yml", "--all-traffic").code == 0

    with Reconciler():
        answer = None
        for _ in range(240):
            answer = cli("online-endpoint", "invoke", "--name", "doubler-ep", "--request-file", "request.json")
            if answer.code == 0 or "no ready instance" not in answer.err:
                break
            time.sleep(0.5)
        assert answer is not None and answer.code == 0, answer
        body = json.loads(answer.out)
        assert [round(x) for x in body["predictions"]] == [6, 20] and body["who"] == "blue"
        assert "answered by blue" in answer.err
        pinned = cli(
            "online-endpoint", "invoke", "-n", "doubler-ep", "-r", "request.json", "--deployment-name", "nosuch"
        )
        assert pinned.code == 1 and "no deployment named nosuch" in pinned.err
        not_json = write(cli.cwd, "bad.json", "{nope")
        bad = cli("online-endpoint", "invoke", "-n", "doubler-ep", "-r", str(not_json))
        assert bad.code == 1 and "not JSON" in bad.err

        logs = cli("online-deployment", "get-logs", "--name", "blue", "--endpoint-name", "doubler-ep", "--lines", "40")
        assert logs.code == 0 and "init" in logs.out.lower() and len(logs.out.splitlines()) <= 40
        assert DeploymentInstance.objects.filter(deployment__name="blue").exists()


def test_a_deployment_yaml_names_its_compute_target(cli, alice, alice_workspace):
    from tests.compute.conftest import make_target

    make_environment(alice_workspace, alice, "plain")
    make_target(alice_workspace, alice, name="cpu-cluster", max_instances=2)
    _files(cli.cwd, "azureml:plain:1")
    assert cli("online-endpoint", "create", "--file", "endpoint.yml").code == 0
    for name, compute in (("blue", "azureml:cpu-cluster"), ("green", "nowhere")):
        text = (cli.cwd / f"{name}-deployment.yml").read_text()
        (cli.cwd / f"{name}-deployment.yml").write_text(text + f"compute: {compute}\n")
    blue = cli("online-deployment", "create", "--file", "blue-deployment.yml", "-o", "json")
    assert blue.code == 0, blue
    assert json.loads(blue.out)["compute"] == "azureml:cpu-cluster"
    green = cli("online-deployment", "create", "--file", "green-deployment.yml")
    assert green.code == 1 and "There is no compute target 'nowhere'" in green.err, green
