"""The free-space reserve guards this machine's disk only: a registered local folder is checked
like the built-in stores, an object store is not (its space is not this machine's)."""

from __future__ import annotations

import pytest

from datastores.reserve import free_bytes, human_size
from tests.conftest import token_client


@pytest.fixture
def api(owner):
    return token_client(owner)


def _register(api, workspace, body: dict) -> str:
    response = api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", body, format="json")
    assert response.status_code == 201, response.content
    return f"/api/v1/workspaces/{workspace.name}/datastores/{body['name']}/files/?path=up.txt"


def test_a_registered_local_folder_keeps_the_reserve(api, workspace, local_folder, settings):
    url = _register(api, workspace, {"name": "share", "type": "local", "path": str(local_folder)})
    settings.STUDIO_STORAGE_RESERVE = free_bytes(str(local_folder)) + 2**30
    response = api.generic("PUT", url, b"hello", content_type="text/plain")
    assert response.status_code == 507, response.content
    assert "Not enough free disk space on the storage of share" in response.json()["detail"]
    assert not (local_folder / "up.txt").exists()


def test_an_object_store_is_not_held_to_this_machines_reserve(api, workspace, s3_server, settings):
    url = _register(api, workspace, s3_server.datastore("bucket_store"))
    settings.STUDIO_STORAGE_RESERVE = free_bytes(str(settings.STUDIO_DATASTORES_ROOT)) + 2**40
    response = api.generic("PUT", url, b"hello", content_type="text/plain")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (80, "80 bytes"),
        (1536, "1.5 KiB"),
        (500 * 2**20, "500 MiB"),
        (int(1.23 * 2**30), "1.2 GiB"),
        (3 * 2**40, "3 TiB"),
    ],
)
def test_sizes_in_messages_read_as_people_write_them(size, shown):
    assert human_size(size) == shown
