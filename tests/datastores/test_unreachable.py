"""Registering a datastore whose address does not answer fails within 10 seconds, with a clear
message: a closed port (refused at once) and a socket that accepts and never answers (a blackhole)."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import token_client
from tests.datastores.conftest import free_port

pytestmark = pytest.mark.django_db

LIMIT_SECONDS = 10


@pytest.fixture
def blackhole():
    """A loopback address that accepts connections (the kernel completes the handshake from the
    listen backlog) and never says a word."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _body(kind: str, address: str) -> dict:
    if kind == "azure_blob":
        return {
            "name": "nowhere_blob",
            "type": "azure_blob",
            "account_name": "devstoreaccount1",
            "container_name": "c",
            "endpoint": f"http://{address}/devstoreaccount1",
            "protocol": "http",
            "credentials": {"account_key": "bm90LWEtcmVhbC1rZXktMTIzNDU2Nzg5MA=="},
        }
    return {
        "name": "nowhere_s3",
        "type": "s3",
        "bucket": "b",
        "endpoint_url": f"http://{address}",
        "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "not-a-real-secret-123"},
    }


@pytest.mark.parametrize("kind", ["azure_blob", "s3"])
@pytest.mark.parametrize("where", ["closed_port", "blackhole"])
def test_registering_an_unreachable_datastore_fails_within_ten_seconds(request, workspace, owner, kind, where):
    address = f"127.0.0.1:{free_port()}" if where == "closed_port" else request.getfixturevalue("blackhole")
    api = token_client(owner)
    started = time.monotonic()
    response = api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", _body(kind, address), format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert "Could not reach" in detail or "did not answer" in detail, detail
    assert "not-a-real-secret-123" not in response.content.decode()
    assert elapsed < LIMIT_SECONDS, f"{kind} at a {where} took {elapsed:.1f} s"
