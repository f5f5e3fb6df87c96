"""Personal access tokens: bootstrap with Basic auth, shown once, expiry and revocation."""

import base64
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from studio import services
from studio.models import AccessToken
from tests.factories import PASSWORD


def basic(username, password=PASSWORD):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())
    return client


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_basic_auth_bootstraps_a_token_that_works_as_bearer(workspace, owner):
    response = basic("olivia").post("/api/v1/tokens/", {"name": "laptop", "expires_in_days": 7}, format="json")
    assert response.status_code == 201
    raw = response.json()["token"]
    assert raw.startswith("stu_")
    stored = AccessToken.objects.get(name="laptop")
    assert raw not in (stored.key_hash, stored.prefix), "only a hash is stored"
    assert bearer(raw).get("/api/v1/workspaces/").json()["results"][0]["name"] == "ws-main"
    listed = bearer(raw).get("/api/v1/tokens/").json()["results"]
    assert "token" not in listed[0], "never shown again"


def test_wrong_password_gets_401(owner):
    assert basic("olivia", "nope").post("/api/v1/tokens/", {}, format="json").status_code == 401


def test_basic_auth_is_not_accepted_elsewhere(workspace, owner):
    assert basic("olivia").get("/api/v1/workspaces/").status_code == 401


def test_an_expired_token_is_refused_with_a_clear_message(workspace, owner):
    token, raw = services.do_create_token(user=owner, name="old", expires_at=timezone.now() + timedelta(seconds=60))
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(raw).get("/api/v1/workspaces/")
    assert response.status_code == 401
    assert response.json()["detail"] == "This token is expired. Log in again to get a new one."


def test_a_revoked_token_stops_working(workspace, owner):
    token, raw = services.do_create_token(user=owner, name="ci")
    assert bearer(raw).get("/api/v1/workspaces/").status_code == 200
    assert bearer(raw).delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    response = bearer(raw).get("/api/v1/workspaces/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_garbage_tokens_get_401_not_500(db):
    assert bearer("stu_not-a-token").get("/api/v1/workspaces/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer")
    assert client.get("/api/v1/workspaces/").status_code == 401


def test_expiry_in_the_past_is_refused(owner):
    response = basic("olivia").post(
        "/api/v1/tokens/", {"name": "x", "expires_at": "2000-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["expires_at"] == ["The expiry must be in the future."]


def test_tokens_page_shows_a_new_token_once_and_revokes(owner, login):
    client = login(owner)
    page = client.post("/account/tokens/", {"name": "cli", "expires_in_days": "30"}, follow=True).content.decode()
    raw = AccessToken.objects.get(name="cli")
    assert "will not be shown again" in page
    assert raw.prefix in page
    again = client.get("/account/tokens/").content.decode()
    assert "will not be shown again" not in again
    client.post(f"/account/tokens/{raw.pk}/revoke/")
    raw.refresh_from_db()
    assert raw.state == "revoked"


def test_one_cannot_revoke_someone_elses_token(owner, outsider, login):
    token, _ = services.do_create_token(user=outsider, name="theirs")
    assert login(owner).post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.state == "active"


def test_purging_forgets_long_dead_tokens_only(owner):
    from studio.tasks import purge_old_tokens

    old, _ = services.do_create_token(user=owner, name="old")
    recent, _ = services.do_create_token(user=owner, name="recent")
    live, _ = services.do_create_token(user=owner, name="live")
    AccessToken.objects.filter(pk=old.pk).update(revoked_at=timezone.now() - timedelta(days=100))
    AccessToken.objects.filter(pk=recent.pk).update(revoked_at=timezone.now() - timedelta(days=1))
    assert purge_old_tokens() == 1
    assert set(AccessToken.objects.values_list("name", flat=True)) == {"recent", "live"}
