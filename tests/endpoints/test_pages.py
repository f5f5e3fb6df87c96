"""Endpoint pages: the list, Deploy (also from a model version's page), the tabs, traffic, keys
and the deployment's log viewer endpoints — as an owner, a reader and a stranger."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from endpoints import instance_logs, instances, keys, services
from endpoints.models import DeploymentInstance, OnlineEndpoint
from tests.endpoints.conftest import SCORE
from tests.jobs.conftest import make_environment, make_zip

W = "/w/{ws}/endpoints/"


@pytest.fixture
def deployable(workspace, owner, score_code):
    """A registered model, an environment and code: what a deployment row needs (nothing built)."""
    from registry import services as registry

    sink = registry.upload_sink_for(workspace)
    sink.open("model.pkl").write(b"not used")
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="doubler")
    make_environment(workspace, owner, "serve")
    return {
        "model": "azureml:doubler:1",
        "environment": "azureml:serve:1",
        "code_configuration": {"code": score_code.pk, "scoring_script": "score.py"},
    }


@pytest.fixture
def endpoint(workspace, owner, deployable):
    ep = services.do_create_endpoint(workspace, {"name": "doubler-ep", "description": "Doubles"}, actor=owner)
    services.do_create_deployment(ep, {"name": "blue", **deployable}, actor=owner)
    services.do_create_deployment(ep, {"name": "green", **deployable}, actor=owner)
    return services.do_update_endpoint(ep, {"traffic": {"blue": 100}}, actor=owner)


def _deploy_post(**fields):
    data = {
        "endpoint": "__new__",
        "endpoint_name": "web-ep",
        "auth_mode": "key",
        "name": "blue",
        "model": "azureml:doubler:1",
        "environment": "azureml:serve:1",
        "instance_count": "1",
        "code": SimpleUploadedFile("score.py", SCORE.encode()),
    }
    data.update(fields)
    return data


def test_deploy_from_the_form_makes_an_endpoint_that_takes_all_traffic(client, workspace, owner, deployable):
    client.force_login(owner)
    page = client.get(W.format(ws=workspace.name) + "deploy/?model=azureml:doubler:1")
    assert page.status_code == 200
    assert page.context["form"].initial["endpoint_name"] == "doubler-ep"
    assert page.context["form"].initial["environment"] == "azureml:serve:1"  # a script needs one
    answer = client.post(W.format(ws=workspace.name) + "deploy/", _deploy_post())
    assert answer.status_code == 302, answer.content[:2000]
    endpoint = OnlineEndpoint.objects.get(workspace=workspace, name="web-ep")
    assert answer["Location"] == f"/w/{workspace.name}/endpoints/web-ep/deployments/"
    assert endpoint.traffic == {"blue": 100}
    blue = endpoint.deployments.get()
    assert blue.scoring_script == "score.py" and blue.model_version.version == "1"

    # A second deployment (a zip of a code folder) joins at 0%: the split stays as it was.
    zipped = make_zip({"src/score.py": SCORE, "src/util.py": "X = 1\n"}).getvalue()
    second = _deploy_post(
        endpoint="web-ep", name="green", scoring_script="src/score.py", code=SimpleUploadedFile("code.zip", zipped)
    )
    assert client.post(W.format(ws=workspace.name) + "deploy/", second).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.traffic == {"blue": 100}
    assert endpoint.deployments.get(name="green").scoring_script == "src/score.py"

    # A picked folder: its files with their paths under the folder's own name (dropped).
    folder = _deploy_post(endpoint="web-ep", name="red", scoring_script="onlinescoring/score.py", code="")
    folder["code_folder"] = [
        SimpleUploadedFile("score.py", SCORE.encode()),
        SimpleUploadedFile("util.py", b"X = 1\n"),
    ]
    folder["code_paths"] = ["project/onlinescoring/score.py", "project/util.py"]
    assert client.post(W.format(ws=workspace.name) + "deploy/", folder).status_code == 302
    red = endpoint.deployments.get(name="red")
    assert red.scoring_script == "onlinescoring/score.py"
    assert (red.code.path / "onlinescoring" / "score.py").read_text() == SCORE
    assert (red.code.path / "util.py").is_file()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"endpoint_name": "1bad"}, "endpoint_name", "starting with a letter"),
        ({"name": "b"}, "name", "3-32 letters"),
        ({"endpoint_name": ""}, "endpoint_name", "Name the new endpoint"),
        ({"code": SimpleUploadedFile("model.pkl", b"x")}, "code", ".py scoring script or a .zip"),
        ({"code": SimpleUploadedFile("code.zip", b"not a zip"), "scoring_script": "s.py"}, "code", "zip archive"),
        ({"code": SimpleUploadedFile("code.zip", make_zip({"a.py": "x"}).getvalue())}, "scoring_script", "Say which"),
        (
            {"code": SimpleUploadedFile("code.zip", make_zip({"a.py": "x"}).getvalue()), "scoring_script": "nope.py"},
            "code",
            "nope.py",
        ),
        ({"model": "azureml:other:1"}, "model", "not one of the available choices"),
        ({"code": ""}, "code", "only an mlflow_model deploys with no script"),
        ({"instance_count": "99"}, "instance_count", "less than or equal to 8"),
    ],
)
def test_bad_deploy_input_is_a_clear_message_and_leaves_nothing_behind(
    client, workspace, owner, deployable, fields, field, words
):
    client.force_login(owner)
    answer = client.post(W.format(ws=workspace.name) + "deploy/", _deploy_post(**fields))
    assert answer.status_code == 200
    errors = answer.context["form"].errors
    assert words in " ".join(errors.get(field, []) + errors.get("__all__", [])), errors
    assert not OnlineEndpoint.objects.filter(workspace=workspace).exists()


def test_a_taken_deployment_name_is_refused_on_the_form(client, workspace, owner, endpoint):
    client.force_login(owner)
    answer = client.post(W.format(ws=workspace.name) + "deploy/", _deploy_post(endpoint="doubler-ep", name="blue"))
    assert answer.status_code == 200
    assert "already has a deployment named blue" in str(answer.context["form"].errors.get("name")), answer.context[
        "form"
    ].errors


def test_the_tabs_show_state_and_readers_see_no_controls(client, workspace, owner, members, endpoint):
    client.force_login(owner)
    base = W.format(ws=workspace.name)
    listing = client.get(base).content.decode()
    assert "doubler-ep" in listing and "blue 100%" in listing and "Deploy a model" in listing
    page = client.get(base + "doubler-ep/deployments/").content.decode()
    assert "Save traffic" in page and "Add deployment" in page and 'hx-trigger="every 2s"' in page
    rows = client.get(base + "doubler-ep/rows/", HTTP_HX_REQUEST="true")
    assert rows.status_code == 200 and "hx-swap-oob" in rows.content.decode()  # no instance is ready: polling goes on
    consume = client.get(base + "doubler-ep/consume/").content.decode()
    uri = f"http://testserver/endpoints/{workspace.name}/doubler-ep/score"
    assert f'curl -X POST "{uri}"' in consume and f'url = "{uri}"' in consume and "Show keys" in consume
    assert keys.read(endpoint)["primary"] not in consume  # keys only on demand
    assert client.get(base + "doubler-ep/test/").status_code == 200

    client.force_login(members["reader"])
    assert client.get(base).status_code == 200
    page = client.get(base + "doubler-ep/deployments/").content.decode()
    assert "blue" in page and "Save traffic" not in page and "Add deployment" not in page and "Delete" not in page
    consume = client.get(base + "doubler-ep/consume/").content.decode()
    assert "Show keys" not in consume and "Regenerate" not in consume and "not its keys" in consume
    assert client.get(base + "doubler-ep/test/").status_code == 404  # no tab it could use
    assert client.get(base + "doubler-ep/keys/?format=json").status_code == 403
    assert client.post(base + "doubler-ep/traffic/", {"traffic-blue": 0, "traffic-green": 100}).status_code == 403
    assert client.get(base + "doubler-ep/nosuchtab/").status_code == 404


def test_traffic_is_saved_through_the_service_and_checked(client, workspace, owner, endpoint):
    client.force_login(owner)
    url = W.format(ws=workspace.name) + "doubler-ep/traffic/"
    bad = client.post(url, {"traffic-blue": 60, "traffic-green": 30}, follow=True)
    assert "add up to 100; these add up to 90" in bad.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.traffic == {"blue": 100}
    bad = client.post(url, {"traffic-blue": "lots", "traffic-green": 30}, follow=True)
    assert "blue: Enter a whole number" in bad.content.decode()
    assert client.post(url, {"traffic-blue": 90, "traffic-green": 10}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.traffic == {"blue": 90, "green": 10}
    from studio.models import ActivityEvent

    assert ActivityEvent.objects.filter(workspace=workspace, verb="endpoint.updated").exists()


def test_keys_are_shown_on_demand_and_regenerated(client, workspace, owner, endpoint):
    client.force_login(owner)
    base = W.format(ws=workspace.name) + "doubler-ep/"
    before = keys.read(endpoint)
    shown = client.get(base + "keys/")
    assert before["primary"] in shown.content.decode() and shown["Cache-Control"] == "no-store"
    assert client.get(base + "keys/?format=json").json()["secondary_key"] == before["secondary"]
    assert client.post(base + "keys/regenerate/", {"key_type": "secondary"}).status_code == 302
    endpoint.refresh_from_db()
    after = keys.read(endpoint)
    assert after["primary"] == before["primary"] and after["secondary"] != before["secondary"]
    bad = client.post(base + "keys/regenerate/", {"key_type": "tertiary"}, follow=True)
    assert "primary or secondary" in bad.content.decode()


def test_scale_and_delete_from_the_page(client, workspace, owner, endpoint):
    client.force_login(owner)
    base = W.format(ws=workspace.name) + "doubler-ep/deployments/"
    client.post(base + "green/scale/", {"instance_count": "3"})
    assert endpoint.deployments.get(name="green").instance_count == 3
    bad = client.post(base + "green/scale/", {"instance_count": "many"}, follow=True)
    assert "whole number" in bad.content.decode()
    still = client.post(base + "blue/delete/", follow=True)
    assert "still takes 100% of the traffic" in still.content.decode()
    client.post(base + "green/delete/")
    assert list(endpoint.deployments.values_list("name", flat=True)) == ["blue"]
    client.post(W.format(ws=workspace.name) + "doubler-ep/delete/")
    assert not OnlineEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_model_version_page_offers_deploy_to_those_who_may(client, workspace, owner, members, deployable):
    url = f"/w/{workspace.name}/models/doubler/versions/1/"
    client.force_login(owner)
    assert (
        f'href="/w/{workspace.name}/endpoints/deploy/?model=azureml%3Adoubler%3A1"' in client.get(url).content.decode()
    )
    client.force_login(members["reader"])
    assert "/endpoints/deploy/" not in client.get(url).content.decode()


def test_strangers_get_404_everywhere(client, workspace, outsider, endpoint):
    client.force_login(outsider)
    base = W.format(ws=workspace.name)
    for url in (base, base + "doubler-ep/deployments/", base + "doubler-ep/keys/", base + "deploy/"):
        assert client.get(url).status_code == 404
    assert client.post(base + "doubler-ep/traffic/", {"traffic-blue": 100}).status_code == 404


def test_the_log_viewer_reads_an_instance_log_by_offset_and_stream(client, workspace, owner, members, endpoint):
    blue = endpoint.deployments.get(name="blue")
    instance = DeploymentInstance.objects.create(deployment=blue)
    path = instances.log_path(instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("server starting\ninit() done: é\n")
    instance_logs.ship(instance, path)  # the node's keeper round; the page reads only the stream
    path.unlink()
    client.force_login(members["reader"])  # reading logs is viewing
    log = W.format(ws=workspace.name) + "doubler-ep/deployments/blue/log/"
    first = client.get(log, {"file": instance.pk, "offset": -10_000, "lines": 1}).json()
    assert first["text"] == "server starting\ninit() done: é\n" and first["line"] == 1
    assert first["next_offset"] == first["size"] == len("server starting\ninit() done: é\n")  # characters
    part = client.get(log, {"file": instance.pk, "offset": 16, "lines": 1}).json()
    assert part["text"].startswith("init()") and part["line"] == 2

    stream = client.get(log + "stream/", {"file": instance.pk}, HTTP_LAST_EVENT_ID="16")
    assert stream["Content-Type"] == "text/event-stream"
    events = iter(stream.streaming_content)
    text = ""
    while "event: log" not in text:
        text += next(events).decode()
    data = json.loads(text.split("event: log\ndata: ", 1)[1].split("\n", 1)[0])
    assert data == {"offset": 16, "text": "init() done: é\n"}

    page = client.get(W.format(ws=workspace.name) + "doubler-ep/logs/").content.decode()
    assert f'data-file="{instance.pk}"' in page and "logviewer.js" in page
    assert client.get(log + "download/", {"file": instance.pk}).status_code == 200
    # An instance of another deployment, or none at all, is not reachable through this one.
    green = DeploymentInstance.objects.create(deployment=endpoint.deployments.get(name="green"))
    assert client.get(log, {"file": green.pk}).status_code == 404
    assert client.get(log, {"file": "../../etc/passwd"}).status_code == 404


def test_the_deployments_table_stops_polling_once_every_instance_is_ready(client, workspace, owner, endpoint):
    from endpoints.models import InstanceStatus

    client.force_login(owner)
    url = W.format(ws=workspace.name) + "doubler-ep/rows/"
    for deployment in endpoint.deployments.all():
        DeploymentInstance.objects.create(deployment=deployment, status=InstanceStatus.READY)
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 286  # htmx: stop polling
    assert "every 2s" not in done.content.decode() and "Healthy" in done.content.decode()


def test_an_mlflow_model_deploys_from_the_form_with_no_script_and_no_environment(client, workspace, owner, tmp_path):
    from registry import services as registry
    from tests.registry.conftest import write_mlflow_model

    folder = write_mlflow_model(tmp_path / "model")
    sink = registry.upload_sink_for(workspace)
    for path in folder.iterdir():
        sink.open(path.name).write(path.read_bytes())
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="iris")
    client.force_login(owner)
    page = client.get(W.format(ws=workspace.name) + "deploy/?model=azureml:iris:1")
    assert not page.context["form"].initial.get("environment")  # the model brings its own
    data = _deploy_post(endpoint_name="iris-ep", model="azureml:iris:1", environment="", code="")
    answer = client.post(W.format(ws=workspace.name) + "deploy/", data)
    assert answer.status_code == 302, answer.context["form"].errors if answer.context else answer
    deployment = OnlineEndpoint.objects.get(name="iris-ep").deployments.get()
    assert deployment.scoring_script == "" and deployment.environment.startswith("azureml:iris-mlflow-env:")
    page = client.get(W.format(ws=workspace.name) + "iris-ep/deployments/").content.decode()
    assert "MLflow model, no script" in page


def test_without_environments_of_its_own_the_deploy_form_starts_from_the_curated_one_that_can_serve(
    client, workspace, owner
):
    from environments import curated
    from registry import services as registry

    curated.sync()
    sink = registry.upload_sink_for(workspace)
    sink.open("model.pkl").write(b"not used")
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="plain")
    client.force_login(owner)
    page = client.get(W.format(ws=workspace.name) + "deploy/?model=azureml:plain:1")
    # Before: Studio-data-prep, first in the alphabet, which has no inference server to start.
    assert page.context["form"].initial["environment"] == "azureml:Studio-sklearn-1.9-inference:1"
