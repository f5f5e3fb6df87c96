"""An online deployment names the compute target its instances run on (`compute`), through the
API, the CLI's YAML and the Deploy form; a target it may not use is a clear field error."""

from __future__ import annotations

from compute.models import Backend, ComputeTarget, ComputeType
from endpoints import services
from endpoints.models import OnlineDeployment
from studio.models import Workspace
from tests.compute.conftest import make_target
from tests.conftest import token_client

API = "/api/v1/workspaces/{ws}/online-endpoints/"


def test_a_deployment_takes_a_compute_target_of_its_workspace_and_shows_it(workspace, owner, light):
    make_target(workspace, owner, name="cpu-cluster", max_instances=2)
    api = token_client(owner)
    url = API.format(ws=workspace.name)
    assert api.post(url, {"name": "placed-ep"}, format="json").status_code == 201
    created = api.post(
        f"{url}placed-ep/deployments/", {"name": "blue", **light, "compute": "azureml:cpu-cluster"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["compute"] == "azureml:cpu-cluster"
    assert OnlineDeployment.objects.get(name="blue").compute.name == "cpu-cluster"

    local = api.post(f"{url}placed-ep/deployments/", {"name": "green", **light}, format="json")
    assert local.status_code == 201 and local.json()["compute"] is None

    # Moving a deployment to another target starts a new generation there (the old one serves meanwhile).
    moved = api.patch(f"{url}placed-ep/deployments/green/", {"compute": "cpu-cluster"}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["compute"] == "azureml:cpu-cluster" and moved.json()["generation"] == 2

    # A target that deployments run on is not deleted from under them.
    refused = api.delete(f"/api/v1/workspaces/{workspace.name}/computes/cpu-cluster/")
    assert refused.status_code == 409 and "online deployments" in str(refused.json()), refused.content


def _attached_engine(workspace) -> ComputeTarget:
    """A Docker engine on another host: its containers would not run on a node of Studio's."""
    return ComputeTarget.objects.create(
        workspace=workspace,
        name="far",
        type=ComputeType.ATTACHED,
        backend=Backend.DOCKER,
        docker_host="tcp://10.0.0.9:2376",
    )


def test_a_missing_foreign_attached_or_someone_elses_compute_is_a_field_error(
    workspace, owner, members, outsider, light
):
    theirs = Workspace.objects.get(name="ws-other")
    make_target(theirs, outsider, name="their-cluster")
    _attached_engine(workspace)
    make_target(workspace, owner, name="ds-box", type="computeinstance", assigned_to=owner.username)
    endpoint = services.do_create_endpoint(workspace, {"name": "placed-ep"}, actor=owner)
    deployments = API.format(ws=workspace.name) + "placed-ep/deployments/"
    scientist = token_client(members["data_scientist"])

    for compute, says in [
        ("azureml:nowhere", "There is no compute target 'nowhere'"),
        ("their-cluster", "There is no compute target 'their-cluster'"),
        ("far", "attached Docker engine on another host"),
        ("ds-box", f"assigned to {owner.username}"),
        (42, "There is no compute target '42'"),  # a number is read as a name, as in every Azure file
    ]:
        bad = scientist.post(deployments, {"name": "blue", **light, "compute": compute}, format="json")
        assert bad.status_code == 400, (compute, bad.content)
        assert says in bad.json()["errors"]["compute"][0], bad.json()
    assert not endpoint.deployments.exists()
    # The instance's own user may deploy to it.
    mine = token_client(owner).post(deployments, {"name": "blue", **light, "compute": "ds-box"}, format="json")
    assert mine.status_code == 201, mine.json()


def test_the_deploy_form_offers_compute_and_the_page_says_where_it_runs(client, workspace, owner, light):
    make_target(workspace, owner, name="cpu-cluster", max_instances=2)
    ComputeTarget.objects.create(workspace=workspace, name="dock", type=ComputeType.DOCKER, backend=Backend.DOCKER)
    _attached_engine(workspace)
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/endpoints/deploy/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="compute"' in html and 'value="cpu-cluster"' in html
    assert 'value="dock"' in html, "instances run as containers on a docker target"
    assert 'value="far"' not in html, "an attached engine's containers are on another host: not offered"

    endpoint = services.do_create_endpoint(workspace, {"name": "placed-ep"}, actor=owner)
    services.do_create_deployment(endpoint, {"name": "blue", **light, "compute": "cpu-cluster"}, actor=owner)
    services.do_create_deployment(endpoint, {"name": "green", **light}, actor=owner)
    rows = client.get(f"/w/{workspace.name}/endpoints/placed-ep/").content.decode()
    assert "on cpu-cluster" in rows and "on local" in rows
