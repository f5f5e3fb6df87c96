"""CSRF, escaping of user content, no cross-workspace access, production settings."""

import os
import subprocess
import sys
from pathlib import Path

from django.test import Client

from studio import services
from studio.models import Workspace
from tests.conftest import token_client
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def test_forms_refuse_posts_without_a_csrf_token(workspace, owner):
    client = Client(enforce_csrf_checks=True)
    client.login(username=owner.username, password=PASSWORD)
    response = client.post("/w/ws-main/settings/", {"description": "forged"})
    assert response.status_code == 403
    assert b"Form expired" in response.content
    workspace.refresh_from_db()
    assert workspace.description == "The main workspace"


def test_session_authenticated_api_calls_need_csrf_too(workspace, owner):
    client = Client(enforce_csrf_checks=True)
    client.login(username=owner.username, password=PASSWORD)
    response = client.patch("/api/v1/workspaces/ws-main/", '{"description": "forged"}', content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_user_content_is_escaped_everywhere_it_is_shown(owner, login):
    evil = "<script>alert('x')</script>"
    ws = services.do_create_workspace(name="evil-ws", actor=owner, description=evil, tags={evil: evil})
    UserFactory(username="mallory")
    services.do_create_role(ws, slug="evil_role", name=evil, actions=["jobs.submit"], actor=owner)
    services.do_add_member(
        ws, user=UserFactory(username="bob"), role=services.resolve_role(ws, "evil_role"), actor=owner
    )
    client = login(owner)
    for url in ["/w/evil-ws/", "/w/evil-ws/members/", "/w/evil-ws/roles/", "/w/evil-ws/activity/", "/workspaces/"]:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in client.get("/w/evil-ws/").content.decode()


def test_guessed_names_in_other_workspaces_are_404(workspace, members, outsider):
    other = Workspace.objects.get(name="ws-other")
    services.do_create_role(other, slug="secret_role", name="Secret", actions=["jobs.submit"], actor=outsider)
    api = token_client(members["owner"])
    for url in [
        "/api/v1/workspaces/ws-other/",
        "/api/v1/workspaces/ws-other/members/",
        "/api/v1/workspaces/ws-other/members/oscar/",
        "/api/v1/workspaces/ws-other/roles/secret_role/",
        "/api/v1/workspaces/ws-other/activity/",
        "/api/v1/workspaces/does-not-exist/members/",
    ]:
        assert api.get(url).status_code == 404, url
    # A custom role of another workspace cannot be used here either.
    response = api.patch("/api/v1/workspaces/ws-main/members/reader_user/", {"role": "secret_role"}, format="json")
    assert response.status_code == 409


def test_pages_of_other_workspaces_are_404_and_show_no_navigation(workspace, outsider, client):
    client.force_login(outsider)
    for url in [
        "/w/ws-main/",
        "/w/ws-main/members/",
        "/w/ws-main/settings/",
        "/w/ws-main/activity/",
        "/w/ws-main/roles/",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"/w/ws-main/members/" not in response.content


def test_anonymous_users_are_sent_to_sign_in_or_get_401(workspace, client, api):
    assert client.get("/w/ws-main/").status_code == 302
    assert client.get("/w/ws-main/")["Location"].startswith("/login/")
    assert api.get("/api/v1/workspaces/").status_code == 401


def test_staff_only_user_api(workspace, owner, members, api):
    assert token_client(owner).get("/api/v1/users/").status_code == 403
    owner.is_staff = True
    owner.save()
    staff = token_client(owner)
    created = staff.post(
        "/api/v1/users/", {"username": "nina", "password": "a-long-passphrase-7", "email": "n@x.org"}, format="json"
    )
    assert created.status_code == 201 and "password" not in created.json()
    dup = staff.post("/api/v1/users/", {"username": "nina", "password": "a-long-passphrase-7"}, format="json")
    assert dup.status_code == 409
    weak = staff.post("/api/v1/users/", {"username": "weakling", "password": "123"}, format="json")
    assert weak.status_code == 400 and "password" in weak.json()["errors"]


def test_production_settings_pass_check_deploy():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DEBUG", "DJANGO_"))}
    env.update(
        DEBUG="false",
        STUDIO_SECRET_KEY="a" * 20 + "-production-secret-key-with-enough-entropy-1234567890",
        ALLOWED_HOSTS="studio.example.com",
        STUDIO_DATA_DIR=str(ROOT / "var" / "check-deploy"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DEBUG", "DJANGO_"))}
    env.update(DEBUG="false", STUDIO_DATA_DIR=str(ROOT / "var" / "no-secret"))
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "STUDIO_SECRET_KEY must be set" in result.stderr


def test_bad_setting_values_stop_start_up():
    env = dict(os.environ, DEBUG="maybe")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_a_bad_encryption_key_stops_start_up():
    env = dict(os.environ, STUDIO_ENCRYPTION_KEY="not-a-fernet-key")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "STUDIO_ENCRYPTION_KEY must be a Fernet key" in result.stderr


def test_stored_secrets_use_the_configured_encryption_key(settings):
    from cryptography.fernet import Fernet

    from studio import crypto

    key = Fernet.generate_key()
    settings.STUDIO_ENCRYPTION_KEY = key.decode()
    crypto._fernet.cache_clear()
    try:
        token = crypto.encrypt("account-key-123")
        assert Fernet(key).decrypt(token.encode()) == b"account-key-123"
    finally:
        crypto._fernet.cache_clear()
