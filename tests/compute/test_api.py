"""Compute targets through the REST API: create, read, edit, delete, and every way a definition
can be wrong (with nothing saved)."""

import pytest

from compute.models import ComputeTarget, TargetState
from studio.models import ActivityEvent
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


def url(ws, name=None, tail=""):
    base = f"/api/v1/workspaces/{ws.name}/computes/"
    return base + (f"{name}/" if name else "") + tail


@pytest.fixture
def api(owner):
    return token_client(owner)


def test_every_workspace_has_a_builtin_local_target(api, workspace):
    body = api.get(url(workspace)).json()
    local = next(c for c in body["results"] if c["name"] == "local")
    assert local["type"] == "local"
    assert local["queue"] == "compute.local"
    assert local["backend"] == "venv"
    assert local["state"] == "Running"


def test_creating_a_cluster_from_an_azure_shaped_body(api, workspace):
    response = api.post(
        url(workspace),
        {
            "name": "cpu-cluster",
            "type": "amlcompute",
            "size": "STANDARD_DS3_V2",
            "min_instances": 0,
            "max_instances": 4,
            "idle_time_before_scale_down": 300,
            "tier": "low_priority",
            "location": "westeurope",
            "description": "Shared CPUs",
            "tags": {"team": "vision"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"] == "cluster"
    assert body["size"] == "Standard_DS3_v2"
    assert (body["cpu_cores"], body["memory_mb"], body["gpus"]) == (4.0, 14336, 0)
    assert (body["min_instances"], body["max_instances"]) == (0, 4)
    assert body["idle_time_before_scale_down"] == 300
    assert body["tier"] == "low_priority"
    assert body["queue"] == "compute.ws-main.cpu-cluster"
    assert body["created_by"] == "olivia"
    assert body["nodes"] == {"total": 0, "busy": 0, "idle": 0, "paused": 0, "draining": 0}
    assert any("location" in n for n in body["notices"])
    assert "assigned_to" not in body and "docker_host" not in body
    event = ActivityEvent.objects.get(verb="compute.created")
    assert event.target == "cpu-cluster" and "compute cluster" in event.message


def test_a_yaml_body_is_the_same_object(api, workspace):
    text = (
        "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
        "name: gpu-cluster\ntype: amlcompute\nsize: Standard_NC6\nmax_instances: 2\n"
    )
    response = api.generic("POST", url(workspace), text, content_type="application/yaml")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["gpus"] == 1 and body["max_instances"] == 2 and body["min_instances"] == 0


def test_a_multipart_spec_file_works_too(api, workspace):
    from django.core.files.uploadedfile import SimpleUploadedFile

    spec = SimpleUploadedFile("ci.yml", b"name: ci\ntype: docker\n", content_type="application/yaml")
    response = api.post(url(workspace), {"spec": spec}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["backend"] == "docker"


def test_yaml_errors_name_their_line(api, workspace):
    text = "name: c1\ntype: amlcompute\nmax_instanses: 3\n"
    response = api.generic("POST", url(workspace), text, content_type="application/yaml")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "line 3" in errors["max_instanses"][0]
    broken = api.generic("POST", url(workspace), "name: [unclosed\n", content_type="application/yaml")
    assert broken.status_code == 400 and "line" in broken.json()["detail"]
    assert not ComputeTarget.objects.filter(name="c1").exists()


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"name": "c1", "type": "amlcompute", "size": "Standard_Huge_v9"}, "size", "Unknown size"),
        ({"name": "c1", "type": "amlcompute", "cpu_cores": 0, "memory_mb": 1024}, "cpu_cores", "more than 0"),
        ({"name": "c1", "type": "amlcompute", "cpu_cores": "lots", "memory_mb": 1024}, "cpu_cores", "number"),
        ({"name": "c1", "type": "amlcompute", "cpu_cores": 2, "memory_mb": 12}, "memory_mb", "at least 128"),
        ({"name": "c1", "type": "amlcompute", "size": "custom", "cpu_cores": 2}, "memory_mb", "Give it too"),
        ({"name": "c1", "type": "amlcompute", "gpus": -1, "size": "Standard_DS3_v2"}, "gpus", "at least 0"),
        (
            {"name": "c1", "type": "amlcompute", "min_instances": 3, "max_instances": 2},
            "min_instances",
            "cannot be more",
        ),
        ({"name": "c1", "type": "amlcompute", "max_instances": 0}, "max_instances", "at least 1"),
        ({"name": "c1", "type": "amlcompute", "max_instances": 2.5}, "max_instances", "whole number"),
        ({"name": "c1", "type": "amlcompute", "tier": "premium"}, "tier", "Unknown tier"),
        ({"name": "c1", "type": "supercomputer"}, "type", "Unknown compute type"),
        ({"name": "c1", "type": "kubernetes"}, "type", "not something Studio can drive"),
        ({"name": "c1", "type": "local"}, "type", "built-in 'local'"),
        ({"name": "c1"}, "type", "Say which type"),
        ({"type": "amlcompute"}, "name", "Give the compute target a name"),
        ({"name": "1st", "type": "amlcompute"}, "name", "starting with a letter"),
        ({"name": "a.b", "type": "amlcompute"}, "name", "letters, digits"),
        ({"name": "new", "type": "amlcompute"}, "name", "reserved"),
        ({"name": "c1", "type": "amlcompute", "assigned_to": "x"}, "assigned_to", "Not a setting of a compute cluster"),
        ({"name": "c1", "type": "amlcompute", "colour": "red"}, "colour", "Unknown key"),
        ({"name": "c1", "type": "amlcompute", "backend": "kvm"}, "backend", "Unknown backend"),
        ({"name": "c1", "type": "attached"}, "docker_host", "needs its address"),
        ({"name": "c1", "type": "attached", "docker_host": "http://h:1"}, "docker_host", "ssh://, tcp:// or unix://"),
        ({"name": "c1", "type": "attached", "docker_host": "tcp://h"}, "docker_host", "port"),
        ({"name": "c1", "type": "attached", "docker_host": "ssh://u@h", "tls": {"ca_cert": "x"}}, "tls", "PEM"),
        ({"name": "c1", "type": "computeinstance", "assigned_to": "nobody"}, "assigned_to", "not a member"),
    ],
)
def test_a_bad_definition_is_refused_with_a_clear_message_and_nothing_saved(api, workspace, body, field, words):
    before = ComputeTarget.objects.count()
    response = api.post(url(workspace), body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words in " ".join(errors[field]), errors
    assert ComputeTarget.objects.count() == before
    assert not ActivityEvent.objects.filter(verb="compute.created").exists()


def test_duplicate_names_conflict_case_insensitively(api, workspace):
    assert api.post(url(workspace), {"name": "cpu", "type": "amlcompute"}, format="json").status_code == 201
    again = api.post(url(workspace), {"name": "CPU", "type": "docker"}, format="json")
    assert again.status_code == 409
    assert "already exists" in again.json()["errors"]["name"][0]
    assert ComputeTarget.objects.filter(workspace=workspace, name__iexact="cpu").count() == 1


def test_the_same_name_is_fine_in_another_workspace(api, workspace, owner):
    from tests.factories import make_workspace

    other = make_workspace(owner, "ws-two")
    assert api.post(url(workspace), {"name": "cpu", "type": "amlcompute"}, format="json").status_code == 201
    assert api.post(url(other), {"name": "cpu", "type": "amlcompute"}, format="json").status_code == 201


def test_editing_changes_only_what_is_given_and_records_it(api, workspace):
    api.post(url(workspace), {"name": "cpu", "type": "amlcompute", "max_instances": 2}, format="json")
    response = api.patch(url(workspace, "cpu"), {"max_instances": 5, "size": "Standard_DS1_v2"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["max_instances"] == 5 and body["min_instances"] == 0 and body["cpu_cores"] == 1.0
    event = ActivityEvent.objects.get(verb="compute.updated")
    assert set(event.data["fields"]) >= {"max_instances", "size", "cpu_cores"}


def test_editing_checks_against_the_saved_values(api, workspace):
    created = api.post(
        url(workspace), {"name": "cpu", "type": "amlcompute", "min_instances": 2, "max_instances": 4}, format="json"
    )
    assert created.status_code == 201, created.content
    response = api.patch(url(workspace, "cpu"), {"max_instances": 1}, format="json")
    assert response.status_code == 400
    assert "min_instances (2) cannot be more than max_instances (1)" in response.json()["errors"]["min_instances"][0]
    assert ComputeTarget.objects.get(name="cpu").max_instances == 4


def test_name_and_type_cannot_change(api, workspace):
    api.post(url(workspace), {"name": "cpu", "type": "amlcompute"}, format="json")
    assert "renamed" in api.patch(url(workspace, "cpu"), {"name": "gpu"}, format="json").json()["errors"]["name"][0]
    assert "type cannot change" in api.patch(url(workspace, "cpu"), {"type": "docker"}, format="json").json()["detail"]
    # what GET returned may be sent back as it is
    body = api.get(url(workspace, "cpu")).json()
    assert api.patch(url(workspace, "cpu"), body, format="json").status_code == 200


def test_deleting_a_target(api, workspace):
    api.post(url(workspace), {"name": "cpu", "type": "amlcompute"}, format="json")
    assert api.delete(url(workspace, "cpu")).status_code == 204
    assert api.get(url(workspace, "cpu")).status_code == 404
    assert ActivityEvent.objects.filter(verb="compute.deleted", target="cpu").exists()


def test_the_local_target_cannot_be_deleted(api, workspace):
    response = api.delete(url(workspace, "local"))
    assert response.status_code == 409
    assert "cannot be deleted" in response.json()["detail"]


def test_only_instances_start_and_stop(api, workspace):
    api.post(url(workspace), {"name": "cpu", "type": "amlcompute"}, format="json")
    response = api.post(url(workspace, "cpu", "stop/"))
    assert response.status_code == 409
    assert "Only compute instances" in response.json()["detail"]


def test_list_filters_by_type(api, workspace):
    api.post(url(workspace), {"name": "cpu", "type": "amlcompute"}, format="json")
    api.post(url(workspace), {"name": "box", "type": "computeinstance"}, format="json")
    names = [c["name"] for c in api.get(url(workspace), {"type": "amlcompute"}).json()["results"]]
    assert names == ["cpu"]
    names = [c["name"] for c in api.get(url(workspace), {"type": "instance,local"}).json()["results"]]
    assert names == ["box", "local"]


def test_an_instance_is_assigned_to_its_creator_by_default_and_waits_for_a_node(api, workspace):
    body = api.post(url(workspace), {"name": "box", "type": "computeinstance"}, format="json").json()
    assert body["assigned_to"] == "olivia"
    assert body["state"] == TargetState.STARTING


def test_a_compute_of_another_workspace_is_not_found(api, workspace, outsider):
    from tests.factories import make_workspace

    other_owner_ws = make_workspace(outsider, "ws-theirs")
    token_client(outsider).post(url(other_owner_ws), {"name": "secret", "type": "docker"}, format="json")
    assert api.get(url(other_owner_ws, "secret")).status_code == 404
    assert api.get(url(workspace, "secret")).status_code == 404
