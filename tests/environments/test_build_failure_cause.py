"""A failed build's summary keeps its cause: uv prints `error: Failed to fetch …` followed by the
chain of causes, and the last one (`invalid peer certificate: UnknownIssuer`) is what the user
must act on."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading

import pytest

from compute.backends import failing_line, get_backend
from environments import builds
from environments.models import BuildStatus
from studio import logs
from tests.conftest import require
from tests.environments.helpers import create

# The output of uv 0.13 installing from an index whose certificate no trusted CA signed.
UV_UNKNOWN_ISSUER = [
    "Using Python 3.11.7 environment at: /var/studio/envs/venv/0f3a",
    "error: Failed to fetch: https://127.0.0.1:34355/simple/numpy/",
    "  cause: error sending request for url (https://127.0.0.1:34355/simple/numpy/)",
    "  cause: client error (Connect)",
    "  cause: invalid peer certificate: UnknownIssuer",
]
# Earlier uv releases wrote "Caused by:" and put the retries first.
UV_CAUSED_BY = [
    "error: Request failed after 3 retries",
    "  Caused by: Failed to fetch: `https://pypi.org/simple/numpy/`",
    "  Caused by: error sending request for url (https://pypi.org/simple/numpy/)",
    "  Caused by: client error (Connect)",
    "  Caused by: invalid peer certificate: UnknownIssuer",
]


def test_the_failing_line_of_a_uv_fetch_error_keeps_its_root_cause():
    assert failing_line(UV_UNKNOWN_ISSUER) == (
        "error: Failed to fetch: https://127.0.0.1:34355/simple/numpy/ (cause: invalid peer certificate: UnknownIssuer)"
    )
    assert failing_line(UV_CAUSED_BY).endswith("(cause: invalid peer certificate: UnknownIssuer)")
    # A line after the error that is not a cause does not become one.
    assert failing_line(["error: Failed to fetch: x", "The command 'uv' returned a non-zero code: 2"]) == (
        "error: Failed to fetch: x"
    )


def _certificates(tmp_path):
    """A CA nobody trusts and a certificate for 127.0.0.1 that it signed (cert, key paths)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Untrusted test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def untrusted_index(tmp_path):
    """An HTTPS package index on loopback whose certificate no trusted CA signed."""
    cert, key = _certificates(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_a_failed_venv_build_says_the_certificate_was_not_trusted(workspace, owner, untrusted_index):
    ok, why = get_backend("venv").available()
    require(ok, f"uv ({why})")
    version = create(
        workspace,
        owner,
        {
            "name": "behind-a-proxy",
            "image": "studio/base:bookworm",
            "pip_requirements": "six\n",
            "environment_variables": {"UV_INDEX_URL": untrusted_index},
        },
    )
    with pytest.raises(builds.BuildFailed) as failed:
        builds.ensure_built(version, "venv", workspace=workspace)
    build = failed.value.build
    build.refresh_from_db()
    assert build.status == BuildStatus.FAILED
    assert "Failed to fetch" in build.error and "UnknownIssuer" in build.error, build.error
    assert "UnknownIssuer" in logs.read_all(build.log_stream)
