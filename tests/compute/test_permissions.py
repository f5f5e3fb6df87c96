"""Who may do what with compute, through the pages and the API: every built-in role × every
compute action, against the table in tests/studio/test_permission_matrix.py. Outsiders get 404."""

import pytest

from compute.models import ComputeTarget
from tests.compute.conftest import make_target, register
from tests.conftest import ROLES, token_client
from tests.studio.test_permission_matrix import EXPECTED

VIEW, MANAGE = "workspace.view", "compute.manage"


@pytest.fixture
def setup(workspace, owner, members):
    """A cluster with a node, a spare docker target, and an instance of the owner's."""
    cluster = make_target(workspace, owner, name="cpu", max_instances=4)
    node = register(cluster)
    make_target(workspace, owner, name="spare", type="docker")
    make_target(workspace, owner, name="owners-box", type="computeinstance")
    return {"cluster": cluster, "node": node}


def ws_url(ws, tail=""):
    return f"/w/{ws}/compute/{tail}"


PAGE_CHECKS = {
    "list": (VIEW, lambda c, ws, s: c.get(ws_url(ws))),
    "detail": (VIEW, lambda c, ws, s: c.get(ws_url(ws, "cpu/"))),
    "live nodes partial": (
        VIEW,
        lambda c, ws, s: c.get(ws_url(ws, "cpu/"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="compute-live"),
    ),
    "create page": (MANAGE, lambda c, ws, s: c.get(ws_url(ws, "new/?type=cluster"))),
    "create": (
        MANAGE,
        lambda c, ws, s: c.post(ws_url(ws, "new/"), {"type": "docker", "name": "made", "size": "Standard_DS1_v2"}),
    ),
    "create from yaml": (
        MANAGE,
        lambda c, ws, s: c.post(ws_url(ws, "new/yaml/"), {"yaml_text": "name: y1\ntype: docker\n"}),
    ),
    "edit": (
        MANAGE,
        lambda c, ws, s: c.post(
            ws_url(ws, "cpu/edit/"),
            {
                "size": "Standard_DS1_v2",
                "min_instances": 0,
                "max_instances": 3,
                "idle_time_before_scale_down": 60,
                "tier": "dedicated",
                "backend": "venv",
            },
        ),
    ),
    "delete": (MANAGE, lambda c, ws, s: c.post(ws_url(ws, "spare/delete/"))),
    "drain a node": (MANAGE, lambda c, ws, s: c.post(ws_url(ws, f"cpu/nodes/{s['node'].pk}/drain/"))),
    "send a test task": (MANAGE, lambda c, ws, s: c.post(ws_url(ws, "cpu/probe/"))),
    "stop someone else's instance": (MANAGE, lambda c, ws, s: c.post(ws_url(ws, "owners-box/stop/"))),
}


def api_url(ws, tail=""):
    return f"/api/v1/workspaces/{ws}/computes/{tail}"


API_CHECKS = {
    "list": (VIEW, lambda c, ws, s: c.get(api_url(ws))),
    "retrieve": (VIEW, lambda c, ws, s: c.get(api_url(ws, "cpu/"))),
    "nodes": (VIEW, lambda c, ws, s: c.get(api_url(ws, "cpu/nodes/"))),
    "create": (MANAGE, lambda c, ws, s: c.post(api_url(ws), {"name": "made", "type": "docker"}, format="json")),
    "edit": (MANAGE, lambda c, ws, s: c.patch(api_url(ws, "cpu/"), {"max_instances": 3}, format="json")),
    "delete": (MANAGE, lambda c, ws, s: c.delete(api_url(ws, "spare/"))),
    "drain a node": (MANAGE, lambda c, ws, s: c.post(api_url(ws, f"cpu/nodes/{s['node'].worker_name}/drain/"))),
    "start someone else's instance": (MANAGE, lambda c, ws, s: c.post(api_url(ws, "owners-box/start/"))),
    "stop someone else's instance": (MANAGE, lambda c, ws, s: c.post(api_url(ws, "owners-box/stop/"))),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("check", sorted(PAGE_CHECKS))
def test_pages_allow_exactly_the_table(role, check, workspace, members, setup, client):
    action, probe = PAGE_CHECKS[check]
    client.force_login(members[role])
    response = probe(client, workspace.name, setup)
    if action in EXPECTED[role]:
        assert response.status_code in (200, 302), (response.status_code, response.content[:800])
        if response.status_code == 200 and check in ("create", "edit", "create from yaml"):
            pytest.fail(f"the form was refused: {response.content[:1500]!r}")
    else:
        assert response.status_code == 403, response.status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("check", sorted(API_CHECKS))
def test_api_allows_exactly_the_table(role, check, workspace, members, setup):
    action, probe = API_CHECKS[check]
    response = probe(token_client(members[role]), workspace.name, setup)
    if action in EXPECTED[role]:
        assert 200 <= response.status_code < 300, response.content[:800]
    else:
        assert response.status_code == 403
        assert "does not allow" in response.json()["detail"]


@pytest.mark.parametrize("check", sorted(PAGE_CHECKS))
def test_outsiders_get_404_from_pages(check, workspace, members, setup, outsider, client):
    client.force_login(outsider)
    assert PAGE_CHECKS[check][1](client, workspace.name, setup).status_code == 404


@pytest.mark.parametrize("check", sorted(API_CHECKS))
def test_outsiders_get_404_from_the_api(check, workspace, members, setup, outsider):
    assert API_CHECKS[check][1](token_client(outsider), workspace.name, setup).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(workspace, setup, client, api):
    assert client.get(ws_url(workspace.name)).status_code == 302
    assert api.get(api_url(workspace.name)).status_code == 401


@pytest.mark.parametrize("role", ["data_scientist", "reader"])
def test_a_member_starts_and_stops_the_instance_assigned_to_them(role, workspace, owner, members, client):
    make_target(workspace, owner, name="my-box", type="computeinstance", assigned_to=members[role].username)
    api = token_client(members[role])
    response = api.post(api_url(workspace.name, "my-box/stop/"))
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "Stopped"
    client.force_login(members[role])
    assert client.post(ws_url(workspace.name, "my-box/start/")).status_code == 302
    assert ComputeTarget.objects.get(name="my-box").state == "Starting"
    # ... but cannot edit or delete it
    assert api.patch(api_url(workspace.name, "my-box/"), {"size": "Standard_DS1_v2"}, format="json").status_code == 403
    assert api.delete(api_url(workspace.name, "my-box/")).status_code == 403


def test_the_detail_page_offers_only_allowed_buttons(workspace, owner, members, client):
    make_target(workspace, owner, name="ds-box", type="computeinstance", assigned_to="datascientist_user")
    make_target(workspace, owner, name="cpu")
    client.force_login(members["data_scientist"])
    own = client.get(ws_url(workspace.name, "ds-box/")).content.decode()
    assert ">Stop</button>" in own and ">Edit</a>" not in own and ">Delete</button>" not in own
    cluster = client.get(ws_url(workspace.name, "cpu/")).content.decode()
    assert "Send a test task" not in cluster
    client.force_login(members["compute_operator"])
    cluster = client.get(ws_url(workspace.name, "cpu/")).content.decode()
    assert "Send a test task" in cluster and ">Edit</a>" in cluster and ">Delete</button>" in cluster
