"""Adding, re-roling and removing members; the last Owner is protected."""

import pytest

from studio import services
from studio.errors import Conflict
from studio.models import ActivityEvent, Membership
from tests.conftest import token_client
from tests.factories import UserFactory


def test_owner_adds_an_existing_user_from_the_page(workspace, owner, login):
    UserFactory(username="dana")
    response = login(owner).post("/w/ws-main/members/", {"username": "dana", "role": "data_scientist"})
    assert response.status_code == 302
    assert Membership.objects.get(workspace=workspace, user__username="dana").role.slug == "data_scientist"
    event = ActivityEvent.objects.filter(workspace=workspace, verb="member.added").get()
    assert event.message == "added dana as Data Scientist"


def test_owner_creates_an_account_while_adding_a_member(workspace, owner, login, client):
    response = login(owner).post(
        "/w/ws-main/members/",
        {
            "username": "newbie",
            "role": "reader",
            "create_account": "on",
            "email": "n@example.com",
            "password": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    client.logout()
    assert client.login(username="newbie", password="a-long-passphrase-42")
    assert client.get("/w/ws-main/").status_code == 200


def test_adding_an_unknown_user_explains_and_keeps_the_form(workspace, owner, login):
    response = login(owner).post("/w/ws-main/members/", {"username": "ghost", "role": "reader"})
    assert response.status_code == 400
    assert b"No user named &#x27;ghost&#x27;" in response.content
    assert b'value="ghost"' in response.content


def test_a_weak_password_for_a_new_account_is_refused(workspace, owner, login):
    response = login(owner).post(
        "/w/ws-main/members/", {"username": "weak", "role": "reader", "create_account": "on", "password": "123"}
    )
    assert response.status_code == 400
    assert b"too short" in response.content
    assert not Membership.objects.filter(user__username="weak").exists()


def test_adding_a_member_twice_is_a_conflict(workspace, members):
    response = token_client(members["owner"]).post(
        "/api/v1/workspaces/ws-main/members/", {"username": "reader_user", "role": "owner"}, format="json"
    )
    assert response.status_code == 409
    assert "already a member" in response.json()["detail"]
    assert Membership.objects.get(user=members["reader"], workspace=workspace).role.slug == "reader"


def test_unknown_role_is_a_clear_error(workspace, members):
    UserFactory(username="eve")
    response = token_client(members["owner"]).post(
        "/api/v1/workspaces/ws-main/members/", {"username": "eve", "role": "admin"}, format="json"
    )
    assert response.status_code == 409
    assert "Unknown role 'admin'" in response.json()["detail"]


def test_role_change_through_the_api_is_recorded(workspace, members):
    response = token_client(members["owner"]).patch(
        "/api/v1/workspaces/ws-main/members/reader_user/", {"role": "contributor"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "contributor"
    event = ActivityEvent.objects.get(verb="member.role_changed")
    assert event.message == "changed the role of reader_user from Reader to Contributor"


def test_the_last_owner_cannot_be_demoted_or_removed(workspace, members):
    api = token_client(members["owner"])
    demote = api.patch("/api/v1/workspaces/ws-main/members/olivia/", {"role": "reader"}, format="json")
    assert demote.status_code == 409
    assert "last Owner" in demote.json()["detail"]
    remove = api.delete("/api/v1/workspaces/ws-main/members/olivia/")
    assert remove.status_code == 409
    assert Membership.objects.get(user=members["owner"], workspace=workspace).role.slug == "owner"


def test_an_owner_can_step_down_once_there_is_another_owner(workspace, members):
    api = token_client(members["owner"])
    assert (
        api.patch("/api/v1/workspaces/ws-main/members/contributor_user/", {"role": "owner"}, format="json").status_code
        == 200
    )
    assert api.patch("/api/v1/workspaces/ws-main/members/olivia/", {"role": "reader"}, format="json").status_code == 200


def test_last_owner_protection_through_the_page(workspace, members, login):
    response = login(members["owner"]).post("/w/ws-main/members/olivia/remove/", follow=True)
    assert b"last Owner cannot be removed" in response.content
    assert Membership.objects.filter(user=members["owner"], workspace=workspace).exists()


def test_service_refuses_a_role_of_another_workspace(workspace, members, outsider):
    from studio.models import Workspace

    other = Workspace.objects.get(name="ws-other")
    foreign = services.do_create_role(other, slug="foreign", name="Foreign", actions=["jobs.submit"], actor=outsider)
    with pytest.raises(Conflict):
        services.do_change_member_role(
            Membership.objects.get(user=members["reader"], workspace=workspace), role=foreign, actor=members["owner"]
        )


def test_removing_a_member_takes_away_access(workspace, members, client):
    token_client(members["owner"]).delete("/api/v1/workspaces/ws-main/members/reader_user/")
    client.force_login(members["reader"])
    assert client.get("/w/ws-main/").status_code == 404


def test_members_page_filters_by_name_and_role_as_an_htmx_partial(workspace, members, login):
    client = login(members["reader"])
    response = client.get("/w/ws-main/members/?q=data", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="member-rows")
    body = response.content.decode()
    assert "datascientist_user" in body and "olivia" not in body
    assert "<html" not in body
    full = client.get("/w/ws-main/members/?role=owner").content.decode()
    assert "<html" in full and "olivia" in full and "reader_user</strong>" not in full
