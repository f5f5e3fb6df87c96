"""Attached Docker engines are contacted before they are saved: a real unreachable address on
127.0.0.1 is refused with the reason and nothing saved; the local engine's socket is accepted."""

import os
import socket

import pytest
from django.core.exceptions import ValidationError

from compute import engines, services
from compute.models import ComputeTarget
from studio import crypto
from studio.models import ActivityEvent
from tests.conftest import require, token_client

pytestmark = pytest.mark.django_db
DOCKER_SOCKET = "/var/run/docker.sock"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url(tail=""):
    return f"/api/v1/workspaces/ws-main/computes/{tail}"


def docker_available() -> bool:
    if not os.path.exists(DOCKER_SOCKET):
        return False
    try:
        engines.check_engine(f"unix://{DOCKER_SOCKET}")
    except Exception:
        return False
    return True


def test_an_unreachable_engine_is_refused_with_the_reason_and_nothing_saved(workspace, owner):
    port = free_port()
    response = token_client(owner).post(
        url(), {"name": "far-gpu", "type": "attached", "docker_host": f"tcp://127.0.0.1:{port}"}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["errors"]["docker_host"][0]
    expected = f"Cannot reach the Docker engine at tcp://127.0.0.1:{port}: connection refused"
    assert message == expected + " (is the engine listening there?)."
    assert not ComputeTarget.objects.filter(name="far-gpu").exists()
    assert not ActivityEvent.objects.filter(verb="compute.created").exists()


def test_a_missing_socket_is_refused(workspace, owner):
    with pytest.raises(ValidationError, match="no such socket"):
        services.do_create_compute(
            workspace,
            data={"name": "nowhere", "type": "attached", "docker_host": "unix:///nowhere/docker.sock"},
            actor=owner,
        )


@pytest.mark.docker
def test_a_reachable_engine_is_attached_with_what_it_said(workspace, owner):
    require(docker_available(), "a Docker engine at unix:///var/run/docker.sock")
    response = token_client(owner).post(
        url(), {"name": "box-engine", "type": "attached", "docker_host": f"unix://{DOCKER_SOCKET}"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["backend"] == "docker" and body["engine_info"]["version"]
    assert body["has_tls"] is False


@pytest.mark.docker
def test_moving_an_attached_target_to_an_unreachable_engine_keeps_the_old_one(workspace, owner):
    require(docker_available(), "a Docker engine at unix:///var/run/docker.sock")
    api = token_client(owner)
    api.post(url(), {"name": "eng", "type": "attached", "docker_host": f"unix://{DOCKER_SOCKET}"}, format="json")
    response = api.patch(url("eng/"), {"docker_host": f"tcp://127.0.0.1:{free_port()}"}, format="json")
    assert response.status_code == 400 and "connection refused" in response.json()["detail"]
    assert ComputeTarget.objects.get(name="eng").docker_host == f"unix://{DOCKER_SOCKET}"


def test_tls_material_is_stored_encrypted_and_never_returned(workspace, owner, monkeypatch):
    """No TLS engine runs here, so only the Docker SDK client is faked: the real check_engine writes
    the TLS files, builds the TLS config, pings and reads the version through it. The TLS handshake
    itself is not covered."""
    import docker

    seen = {}

    class FakeClient:
        def __init__(self, base_url, tls, timeout, use_ssh_client):
            seen.update(base_url=base_url, verify=tls.verify, files=[tls.ca_cert, *tls.cert])
            seen["texts"] = [open(path).read() for path in seen["files"]]

        def ping(self):
            return True

        def version(self):
            return {"Version": "27.0", "ApiVersion": "1.46", "Os": "linux", "Arch": "amd64"}

        def close(self):
            pass

    monkeypatch.setattr(docker, "DockerClient", FakeClient)
    tls = {"ca_cert": PEM, "client_cert": PEM, "client_key": KEY}
    response = token_client(owner).post(
        url(), {"name": "tls-box", "type": "attached", "docker_host": "tcp://10.0.0.5:2376", "tls": tls}, format="json"
    )
    assert response.status_code == 201, response.content
    assert seen["base_url"] == "tcp://10.0.0.5:2376" and seen["verify"]
    assert seen["texts"] == [PEM, PEM, KEY]  # the material reached the client as files ...
    assert not any(os.path.exists(path) for path in seen["files"])  # ... removed after the check
    assert response.json()["engine_info"]["version"] == "27.0"
    target = ComputeTarget.objects.get(name="tls-box")
    assert "PRIVATE KEY" not in target.tls_encrypted and crypto.decrypt_json(target.tls_encrypted) == tls
    body = token_client(owner).get(url("tls-box/")).json()
    assert body["has_tls"] is True and "PRIVATE KEY" not in str(body) and "tls" not in body
    assert "PRIVATE KEY" not in str(ActivityEvent.objects.values_list("data", flat=True))


def test_tls_goes_with_tcp_only_and_needs_cert_and_key_together(workspace, owner):
    api = token_client(owner)
    ssh = api.post(
        url(), {"name": "a1", "type": "attached", "docker_host": "ssh://me@h", "tls": {"ca_cert": PEM}}, format="json"
    )
    assert "tcp:// engines only" in ssh.json()["errors"]["tls"][0]
    half = api.post(
        url(),
        {"name": "a1", "type": "attached", "docker_host": "tcp://h:2376", "tls": {"client_cert": PEM}},
        format="json",
    )
    assert "together" in half.json()["errors"]["tls"][0]


def test_the_client_for_a_target_writes_tls_files_privately_and_removes_them(tmp_path, monkeypatch):
    import docker

    made = {}

    class FakeClient:
        def __init__(self, base_url, tls, timeout, use_ssh_client):
            made["paths"] = [tls.ca_cert, *tls.cert]
            made["modes"] = [oct(os.stat(p).st_mode & 0o777) for p in made["paths"]]

        def close(self):
            pass

    monkeypatch.setattr(docker, "DockerClient", FakeClient)
    with engines.docker_client("tcp://h:2376", {"ca_cert": PEM, "client_cert": PEM, "client_key": KEY}):
        assert made["modes"] == ["0o600"] * 3
    assert not any(os.path.exists(p) for p in made["paths"])
