"""Creating, listing, changing and deleting workspaces, through pages and the API."""

from django.contrib.auth import get_user_model

from studio.models import ActivityEvent, Membership, Workspace
from tests.conftest import token_client


def test_creating_a_workspace_makes_the_creator_owner(owner, login):
    response = login(owner).post(
        "/workspaces/new/", {"name": "nlp", "description": "Language", "tags": "team=nlp\nprod"}
    )
    assert response.status_code == 302 and response["Location"] == "/w/nlp/"
    ws = Workspace.objects.get(name="nlp")
    assert ws.tags == {"team": "nlp", "prod": ""}
    assert Membership.objects.get(workspace=ws, user=owner).role.slug == "owner"
    assert ActivityEvent.objects.filter(workspace=ws, verb="workspace.created").exists()


def test_bad_names_are_refused_with_the_rule(owner, login):
    client = login(owner)
    for bad in ["a", "has space", "-dash-first", "x" * 40, "ünïcode"]:
        response = client.post("/workspaces/new/", {"name": bad})
        assert response.status_code == 200
        assert b"3\xe2\x80\x9333 characters" in response.content, bad
    assert not Workspace.objects.exists()


def test_duplicate_names_are_refused_case_insensitively(workspace, owner):
    api = token_client(owner)
    response = api.post("/api/v1/workspaces/", {"name": "WS-MAIN"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "name: A workspace named 'WS-MAIN' already exists.",
        "errors": {"name": ["A workspace named 'WS-MAIN' already exists."]},
    }


def test_api_lists_only_my_workspaces_with_my_role(workspace, members, outsider):
    body = token_client(members["reader"]).get("/api/v1/workspaces/").json()
    assert [w["name"] for w in body["results"]] == ["ws-main"]
    assert body["results"][0]["role"] == "reader"
    assert body["results"][0]["actions"] == ["workspace.view"]


def test_api_patch_changes_description_and_tags_but_not_the_name(workspace, owner):
    api = token_client(owner)
    response = api.patch("/api/v1/workspaces/ws-main/", {"description": "new", "tags": {"a": "1"}}, format="json")
    assert response.status_code == 200 and response.json()["tags"] == {"a": "1"}
    rename = api.patch("/api/v1/workspaces/ws-main/", {"name": "renamed"}, format="json")
    assert rename.status_code == 400
    assert "cannot be renamed" in rename.json()["detail"]
    assert (
        ActivityEvent.objects.get(verb="workspace.updated").message == "changed workspace settings (description, tags)"
    )


def test_bad_tags_are_a_clear_error(workspace, owner, login):
    response = login(owner).post("/w/ws-main/settings/", {"description": "", "tags": "=nokey"})
    assert response.status_code == 200
    assert b"has no name before" in response.content


def test_delete_needs_the_name_typed(workspace, owner, login):
    client = login(owner)
    response = client.post("/w/ws-main/delete/", {"confirm": "wrong"})
    assert response.status_code == 200 and b"not this workspace" in response.content
    assert Workspace.objects.filter(name="ws-main").exists()
    assert client.post("/w/ws-main/delete/", {"confirm": "ws-main"}).status_code == 302
    assert not Workspace.objects.filter(name="ws-main").exists()


def test_home_redirects_to_the_last_workspace(workspace, owner, login):
    client = login(owner)
    assert client.get("/")["Location"] == "/w/ws-main/"


def test_every_page_renders_for_a_member(workspace, members, client):
    client.force_login(members["reader"])
    for url in [
        "/workspaces/",
        "/w/ws-main/",
        "/w/ws-main/members/",
        "/w/ws-main/roles/",
        "/w/ws-main/activity/",
        "/w/ws-main/settings/",
        "/account/tokens/",
        "/account/password/",
    ]:
        assert client.get(url).status_code == 200, url


def test_bootstrap_creates_admin_and_default_workspace_once(db, monkeypatch, capsys):
    from django.core.management import call_command

    monkeypatch.setenv("STUDIO_ADMIN_PASSWORD", "a-fine-admin-passphrase")
    call_command("studio_bootstrap")
    call_command("studio_bootstrap")
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("a-fine-admin-passphrase")
    assert Membership.objects.get(workspace__name="default", user=admin).role.slug == "owner"
    assert Workspace.objects.count() == 1


def test_bootstrap_generates_and_prints_a_password_once(db, monkeypatch, capsys):
    from django.core.management import call_command

    monkeypatch.delenv("STUDIO_ADMIN_PASSWORD", raising=False)
    call_command("studio_bootstrap")
    first = capsys.readouterr().out
    assert "password:" in first
    password = first.split("password:")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)
    call_command("studio_bootstrap")
    assert "password:" not in capsys.readouterr().out


def test_the_workspace_list_api_does_not_query_per_workspace(owner, django_assert_max_num_queries):
    from studio import services

    for i in range(8):
        services.do_create_workspace(name=f"many-{i}", actor=owner)
    api = token_client(owner)
    with django_assert_max_num_queries(8):
        body = api.get("/api/v1/workspaces/").json()
    assert len(body["results"]) == 8 and {w["role"] for w in body["results"]} == {"owner"}
    assert "members.manage" in body["results"][0]["actions"]
