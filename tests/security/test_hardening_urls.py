"""Addresses members type in (attached Docker engines, datastore endpoints, https:// inputs) may
not lead into Studio's own network, may not carry credentials in a query string, and what answers
there is never quoted back. Real sockets on 127.0.0.1 stand in for internal services."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from compute.models import ComputeTarget
from datastores.materialize import _download_url
from datastores.models import Datastore
from datastores.storage import StorageError
from studio import netcheck
from tests.conftest import token_client

SECRET_BODY = "INTERNAL-ONLY-7f3a secret page of an internal service"
closed = override_settings(STUDIO_ALLOW_PRIVATE_URLS=False, STUDIO_PRIVATE_URL_NETWORKS=[])


class InternalService(http.server.BaseHTTPRequestHandler):
    """Answers everything with a body no member may read; /hop redirects to `redirect_to`."""

    redirect_to = ""

    def _answer(self):
        if self.path.startswith("/hop") and self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        body = SECRET_BODY.encode()
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def internal_service():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), InternalService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@closed
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://localhost:5432/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://192.168.0.10:9000/",
        "http://[::1]:8000/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ],
)
def test_internal_addresses_are_refused(url):
    with pytest.raises(ValidationError, match="loopback, private or link-local"):
        netcheck.check_url(url, field="endpoint_url")


@closed
def test_query_strings_and_passwords_are_refused_but_public_addresses_pass():
    with pytest.raises(ValidationError, match="query string"):
        netcheck.check_url("https://8.8.8.8/?sv=2024&sig=abc", field="endpoint")
    with pytest.raises(ValidationError, match="user:password"):
        netcheck.check_url("https://me:pw@8.8.8.8/", field="endpoint")
    assert netcheck.check_url("https://8.8.8.8/bucket", field="endpoint_url") == "https://8.8.8.8/bucket"


@override_settings(STUDIO_ALLOW_PRIVATE_URLS=False, STUDIO_PRIVATE_URL_NETWORKS=["10.0.0.0/8"])
def test_an_administrator_can_allow_one_private_network():
    assert netcheck.check_url("http://10.20.30.40:9000", field="endpoint_url")
    with pytest.raises(ValidationError):
        netcheck.check_url("http://192.168.1.1:9000", field="endpoint_url")


@closed
def test_an_attached_engine_on_loopback_or_a_local_socket_is_refused(workspace, owner):
    api = token_client(owner)
    for host in ("tcp://127.0.0.1:2375", "unix:///var/run/docker.sock", "ssh://root@localhost"):
        response = api.post(
            "/api/v1/workspaces/ws-main/computes/",
            {"name": "inside", "type": "attached", "docker_host": host},
            format="json",
        )
        assert response.status_code == 400, host
        assert "STUDIO_ALLOW_PRIVATE_URLS" in response.json()["errors"]["docker_host"][0]
    assert not ComputeTarget.objects.filter(name="inside").exists()


@closed
def test_datastore_endpoints_inside_the_network_are_refused(workspace, owner):
    api = token_client(owner)
    base = "/api/v1/workspaces/ws-main/datastores/"
    s3 = api.post(
        base,
        {
            "name": "meta",
            "type": "s3",
            "bucket": "b",
            "endpoint_url": "http://169.254.169.254/",
            "credentials": {"access_key_id": "k", "secret_access_key": "s"},
        },
        format="json",
    )
    assert s3.status_code == 400 and "endpoint_url" in s3.json()["errors"]
    azure = api.post(
        base,
        {
            "name": "loop",
            "type": "azure_blob",
            "account_name": "acct",
            "container_name": "c",
            "endpoint": "http://127.0.0.1:10000/acct",
            "credentials": {"account_key": "a2V5"},
        },
        format="json",
    )
    assert azure.status_code == 400 and "endpoint" in azure.json()["errors"]
    assert not Datastore.objects.filter(name__in=["meta", "loop"]).exists()


def test_an_endpoint_with_a_query_string_is_refused_even_where_private_urls_are_allowed(workspace, owner):
    response = token_client(owner).post(
        "/api/v1/workspaces/ws-main/datastores/",
        {
            "name": "sas_in_endpoint",
            "type": "azure_blob",
            "account_name": "acct",
            "container_name": "c",
            "endpoint": "https://acct.blob.core.windows.net/?sv=2024-01-01&sig=SECRETSIG",
            "credentials": {"account_key": "a2V5"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "query string" in response.json()["errors"]["endpoint"][0]
    assert "SECRETSIG" not in response.content.decode()


def test_a_sas_saved_in_an_old_endpoint_is_not_shown_to_readers(workspace, owner, members, client):
    Datastore.objects.create(
        workspace=workspace,
        name="legacy",
        type=Datastore.Type.AZURE_BLOB,
        account_name="acct",
        container_name="c",
        endpoint="https://acct.blob.core.windows.net/?sv=2024&sig=OLDSECRET",
        protocol="https",
        created_by=owner,
    )
    reader = members["reader"]
    api = token_client(reader)
    assert "OLDSECRET" not in api.get("/api/v1/workspaces/ws-main/datastores/legacy/").content.decode()
    assert "OLDSECRET" not in api.get("/api/v1/workspaces/ws-main/datastores/").content.decode()
    client.force_login(reader)
    for page in ("/w/ws-main/datastores/", "/w/ws-main/datastores/legacy/"):
        assert "OLDSECRET" not in client.get(page).content.decode(), page


def test_a_foreign_server_s_answer_is_never_quoted_in_datastore_errors(workspace, owner, internal_service):
    """Allowed (STUDIO_ALLOW_PRIVATE_URLS is on in tests), but whatever answered stays unsaid."""
    response = token_client(owner).post(
        "/api/v1/workspaces/ws-main/datastores/",
        {
            "name": "probe",
            "type": "s3",
            "bucket": "b",
            "endpoint_url": internal_service,
            "credentials": {"access_key_id": "k", "secret_access_key": "s"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "INTERNAL-ONLY" not in response.content.decode()


def test_a_foreign_server_s_answer_is_never_quoted_in_engine_errors(workspace, owner, internal_service):
    response = token_client(owner).post(
        "/api/v1/workspaces/ws-main/computes/",
        {"name": "probe", "type": "attached", "docker_host": internal_service.replace("http://", "tcp://")},
        format="json",
    )
    assert response.status_code == 400
    assert "INTERNAL-ONLY" not in response.content.decode()


@closed
def test_https_inputs_into_the_network_are_refused_at_submission(workspace, owner):
    response = token_client(owner).post(
        "/api/v1/workspaces/ws-main/jobs/",
        {
            "command": "cat ${{inputs.x}}",
            "environment": "Studio-minimal-py311@latest",
            "inputs": {"x": {"type": "uri_file", "path": "https://169.254.169.254/latest/meta-data/iam"}},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "loopback, private or link-local" in str(response.json()["errors"])


@override_settings(
    STUDIO_DATA_ALLOW_HTTP=True, STUDIO_ALLOW_PRIVATE_URLS=False, STUDIO_PRIVATE_URL_NETWORKS=["127.0.0.1/32"]
)
def test_a_download_that_redirects_inside_is_stopped_and_quotes_nothing(internal_service, tmp_path: Path):
    InternalService.redirect_to = internal_service.replace("127.0.0.1", "127.0.0.2") + "/secret"
    try:
        with pytest.raises(StorageError, match="loopback, private or link-local"):
            _download_url(internal_service + "/hop", tmp_path)
    finally:
        InternalService.redirect_to = ""
    with pytest.raises(StorageError) as failed:
        _download_url(internal_service + "/page", tmp_path)
    assert "HTTP 500" in str(failed.value) and "INTERNAL-ONLY" not in str(failed.value)
    assert not list(tmp_path.iterdir()), "nothing is kept of a failed download"


def test_a_data_asset_url_inside_the_network_is_refused(workspace, owner):
    with closed:
        response = token_client(owner).post(
            "/api/v1/workspaces/ws-main/data/meta/versions/",
            {"type": "uri_file", "path": "https://169.254.169.254/latest/meta-data/"},
            format="json",
        )
    assert response.status_code == 400, response.content
    assert "loopback, private or link-local" in str(response.json())
