"""Custom roles: defined by ticking actions, validated, and protected while in use."""

from studio.models import Role
from tests.conftest import token_client


def test_owner_creates_a_custom_role_from_the_page(workspace, owner, login):
    response = login(owner).post(
        "/w/ws-main/roles/new/",
        {"name": "ML engineer", "slug": "ml_engineer", "actions": ["jobs.submit", "jobs.cancel", "environments.write"]},
    )
    assert response.status_code == 302
    role = Role.objects.get(workspace=workspace, slug="ml_engineer")
    assert role.sorted_actions() == ["workspace.view", "environments.write", "jobs.submit", "jobs.cancel"]


def test_a_role_without_actions_is_refused_with_a_message(workspace, owner, login):
    response = login(owner).post("/w/ws-main/roles/new/", {"name": "Empty", "slug": "empty"})
    assert response.status_code == 200
    assert b"Tick at least one action." in response.content
    assert not Role.objects.filter(slug="empty").exists()


def test_builtin_slugs_and_duplicates_are_refused(workspace, members):
    api = token_client(members["owner"])
    clash = api.post(
        "/api/v1/workspaces/ws-main/roles/",
        {"slug": "owner", "name": "Fake", "actions": ["jobs.submit"]},
        format="json",
    )
    assert clash.status_code == 409
    bad = api.post(
        "/api/v1/workspaces/ws-main/roles/", {"slug": "x", "name": "Bad", "actions": ["root.everything"]}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"slug", "actions.0"}
    assert "not a valid choice" in bad.json()["errors"]["actions.0"][0]


def test_roles_api_lists_builtins_then_custom(workspace, members):
    api = token_client(members["reader"])
    slugs = [r["slug"] for r in api.get("/api/v1/workspaces/ws-main/roles/").json()]
    assert slugs[:5] == ["owner", "contributor", "reader", "data_scientist", "compute_operator"]


def test_a_role_in_use_cannot_be_deleted_and_an_unused_one_can(workspace, members):
    api = token_client(members["owner"])
    api.post(
        "/api/v1/workspaces/ws-main/roles/", {"slug": "lab", "name": "Lab", "actions": ["jobs.submit"]}, format="json"
    )
    api.patch("/api/v1/workspaces/ws-main/members/reader_user/", {"role": "lab"}, format="json")
    in_use = api.delete("/api/v1/workspaces/ws-main/roles/lab/")
    assert in_use.status_code == 409
    assert "still have the role" in in_use.json()["detail"]
    api.patch("/api/v1/workspaces/ws-main/members/reader_user/", {"role": "reader"}, format="json")
    assert api.delete("/api/v1/workspaces/ws-main/roles/lab/").status_code == 204


def test_builtin_roles_cannot_be_edited(workspace, members):
    api = token_client(members["owner"])
    assert (
        api.patch("/api/v1/workspaces/ws-main/roles/reader/", {"actions": ["jobs.submit"]}, format="json").status_code
        == 409
    )


def test_editing_a_custom_role_changes_what_members_may_do(workspace, members):
    from studio.models import Workspace
    from studio.permissions import can

    api = token_client(members["owner"])
    api.post(
        "/api/v1/workspaces/ws-main/roles/", {"slug": "lab", "name": "Lab", "actions": ["jobs.submit"]}, format="json"
    )
    api.patch("/api/v1/workspaces/ws-main/members/reader_user/", {"role": "lab"}, format="json")
    api.patch("/api/v1/workspaces/ws-main/roles/lab/", {"actions": ["data.write"]}, format="json")
    ws = Workspace.objects.get(name="ws-main")
    assert can(members["reader"], ws, "data.write")
    assert not can(members["reader"], ws, "jobs.submit")
