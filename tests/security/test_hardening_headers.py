"""Response headers: a Content-Security-Policy without inline script or eval, HSTS preload only on
request, and X-Forwarded-Proto believed only behind a declared proxy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_send_a_strict_content_security_policy(client, db):
    directives = policy(client.get("/login/"))
    assert directives["script-src"][0] == "'self'"
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(directives["script-src"])
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]


def test_an_inline_script_with_the_nonce_is_allowed_by_the_header(rf):
    from csp.middleware import CSPMiddleware
    from django.template import engines

    request = rf.get("/")
    middleware = CSPMiddleware(lambda req: None)
    middleware.process_request(request)
    html = (
        engines["django"].from_string('<script nonce="{{ request.csp_nonce }}"></script>').render({"request": request})
    )
    nonce = re.search(r'nonce="([^"]+)"', html).group(1)
    from django.http import HttpResponse

    response = middleware.process_response(request, HttpResponse(html))
    assert f"'nonce-{nonce}'" in policy(response)["script-src"]


def template_files():
    for folder in TEMPLATE_DIRS:
        yield from folder.rglob("*.html")


@pytest.mark.parametrize("path", list(template_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_follow_the_script_rule(path):
    """docs/security.md: scripts are static files; an unavoidable inline <script> carries the
    nonce; no inline event handlers, no javascript: URLs, no hx-on (htmx would need eval)."""
    text = path.read_text()
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or "nonce=" in tag, f"{path}: inline {tag} without the CSP nonce"
    assert not re.search(r"\son[a-z]+\s*=", text), f"{path}: inline event handler attribute"
    assert "javascript:" not in text, f"{path}: javascript: URL"
    assert "hx-on" not in text, f"{path}: hx-on needs eval, which the policy forbids"


def test_admin_and_api_docs_pages_are_covered_too(admin_client):
    assert "script-src" in policy(admin_client.get("/admin/"))
    docs = admin_client.get("/api/docs/")
    assert docs.status_code == 200
    assert "<script>" not in docs.content.decode(), "Swagger's start-up script is served as a file"


def production_settings(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DEBUG", "DJANGO_"))}
    env.update(
        DEBUG="false",
        STUDIO_SECRET_KEY="a" * 20 + "-production-secret-key-with-enough-entropy-1234567890",
        ALLOWED_HOSTS="studio.example.com",
        STUDIO_DATA_DIR=str(ROOT / "var" / "check-headers"),
        DJANGO_SETTINGS_MODULE="studio.settings",
        **extra,
    )
    code = (
        "from django.conf import settings as s\n"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD, s.SECURE_PROXY_SSL_HEADER)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.split(maxsplit=2)


def test_hsts_preload_is_off_by_default_and_on_when_asked():
    seconds, preload, _ = production_settings()
    assert int(seconds) > 0 and preload == "False"
    _, preload, _ = production_settings(STUDIO_HSTS_PRELOAD="true")
    assert preload == "True"


def test_forwarded_proto_is_trusted_only_behind_a_declared_proxy():
    assert production_settings()[2].strip() == "None"
    assert "HTTP_X_FORWARDED_PROTO" in production_settings(STUDIO_BEHIND_PROXY="true")[2]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_a_client_cannot_claim_https_with_a_forwarded_header(client, db):
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"].startswith("https://")
