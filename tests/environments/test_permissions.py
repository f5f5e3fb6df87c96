"""Who may do what with environments, through the pages and the API (EXPECTED is the shared table)."""

from __future__ import annotations

import pytest

from tests.conftest import ROLES, token_client
from tests.environments.helpers import create
from tests.studio.test_permission_matrix import EXPECTED

pytestmark = pytest.mark.django_db

BODY = {"name": "by-role", "image": "studio/base:bookworm"}
W = "environments.write"


@pytest.mark.parametrize("role", ROLES)
def test_api_create_follows_the_role_table(role, workspace, members):
    response = token_client(members[role]).post("/api/v1/workspaces/ws-main/environments/", BODY, format="json")
    assert response.status_code == (201 if W in EXPECTED[role] else 403), response.json()


@pytest.mark.parametrize("role", ROLES)
def test_page_create_follows_the_role_table(role, workspace, members, client):
    client.force_login(members[role])
    form = {"name": "by-role", "kind": "image", "image": "studio/base:bookworm"}
    response = client.post("/w/ws-main/environments/new/", form)
    assert response.status_code == (302 if W in EXPECTED[role] else 403)
    assert client.get("/w/ws-main/environments/new/").status_code == (200 if W in EXPECTED[role] else 403)


@pytest.mark.parametrize("role", ROLES)
def test_archiving_and_building_follow_the_role_table(role, workspace, members, owner, client):
    version = create(workspace, owner, BODY)
    api = token_client(members[role])
    base = "/api/v1/workspaces/ws-main/environments/by-role/versions/1/"
    allowed = W in EXPECTED[role]
    assert api.get(base).status_code == 200
    assert api.get("/api/v1/workspaces/ws-main/environments/").status_code == 200
    # A build that cannot start (unknown backend) still shows whether the role may ask: 400 vs 403.
    assert api.post(base + "build/", {"backend": "nope"}, format="json").status_code == (400 if allowed else 403)
    assert api.delete(base).status_code == (200 if allowed else 403)
    client.force_login(members[role])
    page = client.post(f"/w/ws-main/environments/by-role/versions/{version.version}/archive/", {"restore": "1"})
    assert page.status_code == (302 if allowed else 403)


def test_the_reader_sees_no_write_buttons(workspace, members, owner, client):
    create(workspace, owner, BODY)
    client.force_login(members["reader"])
    page = client.get("/w/ws-main/environments/by-role/").content.decode()
    assert "Build on venv" not in page and "New version from this one" not in page and "Archive" not in page
    listing = client.get("/w/ws-main/environments/?tab=custom").content.decode()
    assert "by-role" in listing and 'href="/w/ws-main/environments/new/"' not in listing
    client.force_login(members["data_scientist"])
    page = client.get("/w/ws-main/environments/by-role/").content.decode()
    assert "Build on venv" in page and "New version from this one" in page


def test_outsiders_get_404_everywhere(workspace, owner, outsider, client):
    create(workspace, owner, BODY)
    api = token_client(outsider)
    for url in [
        "/api/v1/workspaces/ws-main/environments/",
        "/api/v1/workspaces/ws-main/environments/by-role/versions/1/",
        "/api/v1/workspaces/ws-main/environments/by-role/versions/1/build/",
    ]:
        assert api.get(url).status_code == 404
    assert api.post("/api/v1/workspaces/ws-main/environments/", BODY, format="json").status_code == 404
    client.force_login(outsider)
    for url in ["/w/ws-main/environments/", "/w/ws-main/environments/by-role/", "/w/ws-main/environments/new/"]:
        assert client.get(url).status_code == 404


def test_anonymous_callers_are_refused(workspace, client):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/workspaces/ws-main/environments/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    assert client.get("/w/ws-main/environments/").status_code == 302
