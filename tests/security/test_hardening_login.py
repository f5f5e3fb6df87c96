"""Sign-in rate limiting: the login page and HTTP Basic on the token endpoint lock a username
after too many failures from one address, say so, and unlock after the cool-off."""

from __future__ import annotations

import base64

import pytest
from django.test import override_settings

from tests.factories import PASSWORD, UserFactory

LIMIT = 3


@pytest.fixture
def user(db):
    return UserFactory(username="rita")


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def fail_page_login(client, times: int):
    for _ in range(times):
        response = client.post("/login/", {"username": "rita", "password": "wrong"})
        assert response.status_code in (200, 429)


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_login_page_locks_out_after_the_limit_with_a_clear_message(client, user):
    for _ in range(LIMIT - 1):
        response = client.post("/login/", {"username": "rita", "password": "wrong"})
        assert response.status_code == 200, "a plain failure re-shows the form"
    response = client.post("/login/", {"username": "rita", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    # Even the right password is refused while locked out.
    response = client.post("/login/", {"username": "rita", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_lockout_is_per_username_and_address(client, user):
    UserFactory(username="sam")
    fail_page_login(client, LIMIT)
    response = client.post("/login/", {"username": "sam", "password": PASSWORD})
    assert response.status_code == 302, "another account from the same address still signs in"
    client.logout()
    response = client.post("/login/", {"username": "rita", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302, "the same account from another address still signs in"


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_basic_auth_on_the_token_endpoint_locks_out_with_json(api, user):
    for _ in range(LIMIT - 1):
        response = api.post("/api/v1/tokens/", {"name": "x"}, format="json", HTTP_AUTHORIZATION=basic("rita", "no"))
        assert response.status_code == 401
    response = api.post("/api/v1/tokens/", {"name": "x"}, format="json", HTTP_AUTHORIZATION=basic("rita", "no"))
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.json()["detail"]
    response = api.post("/api/v1/tokens/", {"name": "x"}, format="json", HTTP_AUTHORIZATION=basic("rita", PASSWORD))
    assert response.status_code == 429
    assert "token" not in response.json()


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_page_and_api_failures_count_together(client, api, user):
    fail_page_login(client, LIMIT - 1)
    response = api.post("/api/v1/tokens/", {"name": "x"}, format="json", HTTP_AUTHORIZATION=basic("rita", "no"))
    assert response.status_code == 429


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_a_success_before_the_limit_resets_the_count(client, user):
    fail_page_login(client, LIMIT - 1)
    assert client.post("/login/", {"username": "rita", "password": PASSWORD}).status_code == 302
    client.logout()
    fail_page_login(client, LIMIT - 1)
    assert client.post("/login/", {"username": "rita", "password": PASSWORD}).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=LIMIT, STUDIO_BEHIND_PROXY=False)
def test_forwarded_for_is_ignored_without_a_proxy(client, user):
    """A client cannot dodge the limit by inventing X-Forwarded-For addresses."""
    for n in range(LIMIT):
        client.post("/login/", {"username": "rita", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
    response = client.post("/login/", {"username": "rita", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="10.9.9.200")
    assert response.status_code == 429
