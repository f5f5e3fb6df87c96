"""The shared `local` worker belongs to the Studio administrator: no workspace role drains it,
sends it test tasks or changes its limits (issue #11: a Compute Operator drained it and `make run`
took web and beat down with it)."""

import pytest

from compute.models import ComputeTarget, Node
from studio.models import ActivityEvent
from tests.compute.conftest import register
from tests.conftest import token_client
from tests.factories import UserFactory, add_member


@pytest.fixture
def local(workspace):
    return ComputeTarget.objects.get(workspace=workspace, name="local")


@pytest.fixture
def local_node(local):
    return register(local, worker="local.1@machine")


@pytest.fixture
def admin(workspace, owner):
    """Studio staff, a plain Reader of the workspace."""
    user = UserFactory(username="ada", is_staff=True)
    add_member(workspace, user, "reader", actor=owner)
    return user


@pytest.mark.parametrize("role", ["owner", "contributor", "compute_operator"])
def test_no_workspace_role_drains_the_shared_local_worker_through_the_api(role, members, workspace, local_node):
    response = token_client(members[role]).post(
        f"/api/v1/workspaces/{workspace.name}/computes/local/nodes/{local_node.worker_name}/drain/"
    )

    assert response.status_code == 403
    assert "Studio administrator" in response.json()["detail"]
    assert Node.objects.get(pk=local_node.pk).drain_requested is False


@pytest.mark.parametrize("role", ["owner", "compute_operator"])
def test_no_workspace_role_drains_the_shared_local_worker_through_the_page(role, members, workspace, local_node, login):
    client = login(members[role])

    page = client.get(f"/w/{workspace.name}/compute/local/")
    response = client.post(f"/w/{workspace.name}/compute/local/nodes/{local_node.pk}/drain/")

    assert page.status_code == 200
    assert b"Drain</button>" not in page.content and b"Send a test task" not in page.content
    assert b"only a Studio administrator" in page.content
    assert response.status_code == 403
    assert b"only a Studio administrator" in response.content, "the 403 page says what is missing"
    assert Node.objects.get(pk=local_node.pk).drain_requested is False


def test_a_studio_administrator_drains_the_shared_local_worker(admin, workspace, local_node, login):
    page = login(admin).get(f"/w/{workspace.name}/compute/local/")
    response = token_client(admin).post(
        f"/api/v1/workspaces/{workspace.name}/computes/local/nodes/{local_node.worker_name}/drain/"
    )

    assert b"Drain</button>" in page.content
    assert response.status_code == 200, response.content
    assert Node.objects.get(pk=local_node.pk).drain_requested is True
    assert ActivityEvent.objects.filter(verb="compute.node_drain_requested", actor=admin).exists()


def test_a_compute_operator_still_drains_the_workspaces_own_cluster(members, workspace, owner):
    from tests.compute.conftest import make_target

    node = register(make_target(workspace, owner, name="cpu"), worker="cpu.1@host")

    response = token_client(members["compute_operator"]).post(
        f"/api/v1/workspaces/{workspace.name}/computes/cpu/nodes/{node.worker_name}/drain/"
    )

    assert response.status_code == 200, response.content


def test_no_workspace_role_sends_test_tasks_to_the_shared_worker(members, workspace, local_node, login):
    response = login(members["owner"]).post(f"/w/{workspace.name}/compute/local/probe/")

    assert response.status_code == 403
    assert not ComputeTarget.objects.get(workspace=workspace, name="local").probes.exists()


def test_the_shared_workers_limits_are_the_administrators(members, workspace, local, admin):
    url = f"/api/v1/workspaces/{workspace.name}/computes/local/"

    refused = token_client(members["owner"]).patch(url, {"cpu_cores": 64, "memory_mb": 512000}, format="json")
    described = token_client(members["owner"]).patch(url, {"description": "Our CPU box"}, format="json")
    allowed = token_client(admin).patch(url, {"cpu_cores": 1}, format="json")

    assert refused.status_code == 403 and "Studio administrator" in refused.json()["detail"]
    assert described.status_code == 200
    assert allowed.status_code == 403  # a Reader: compute.manage is still needed to edit at all
    local.refresh_from_db()
    assert local.cpu_cores == 2 and local.description == "Our CPU box"


def test_an_owner_still_edits_the_local_targets_description_in_the_form(members, workspace, local, login):
    client = login(members["owner"])
    form = client.get(f"/w/{workspace.name}/compute/local/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data |= {"description": "Renamed by the owner", "cpu_cores": 64}  # a forged limit is ignored

    response = client.post(f"/w/{workspace.name}/compute/local/edit/", data)

    assert response.status_code == 302, response.context["form"].errors if response.context else response
    local.refresh_from_db()
    assert local.description == "Renamed by the owner" and local.cpu_cores == 2
    assert form.machine_locked and form.fields["cpu_cores"].disabled
