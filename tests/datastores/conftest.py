"""Real storage servers for the datastore tests: Azurite (Azure Blob) and moto's S3 server, each
started on a free 127.0.0.1 port for the session and stopped after it; local folders in tmp dirs."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
AZURITE = Path(os.environ.get("STUDIO_AZURITE", ROOT / "node_modules" / ".bin" / "azurite-blob"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    # Open keep-alive connections can hold a server up; it holds nothing worth waiting for.
    proc.terminate()
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class AzuriteServer:
    account: str
    key: str
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.account}"

    def service(self):
        from azure.storage.blob import BlobServiceClient

        conn = (
            f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
            f"BlobEndpoint={self.endpoint};"
        )
        return BlobServiceClient.from_connection_string(conn)

    def container(self, name: str | None = None) -> str:
        name = name or "c" + secrets.token_hex(6)
        self.service().create_container(name)
        return name

    def sas(self, container: str, *, write: bool = True) -> str:
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        return generate_container_sas(
            account_name=self.account,
            container_name=container,
            account_key=self.key,
            permission=ContainerSasPermissions(
                read=True, write=write, list=True, delete=write, add=write, create=write
            ),
            expiry=datetime.now(UTC) + timedelta(hours=2),
        )


@pytest.fixture(scope="session")
def azurite_server():
    """Azurite's blob service with an account whose key is random for this run."""
    node = shutil.which("node")
    require(node is not None and AZURITE.exists(), "Azurite (npm install at the repository root) and Node.js")
    account = "studioacct"
    key = base64.b64encode(secrets.token_bytes(64)).decode()
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="azurite-")
    env = {**os.environ, "AZURITE_ACCOUNTS": f"{account}:{key}"}
    proc = subprocess.Popen(
        [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            workdir,
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc, "Azurite")
        yield AzuriteServer(account=account, key=key, port=port)
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class S3Server:
    url: str
    key: str
    secret: str

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
        )

    def bucket(self, name: str | None = None) -> str:
        name = name or "b" + secrets.token_hex(6)
        self.client().create_bucket(Bucket=name)
        return name

    def datastore(self, name: str) -> dict:
        """The API body registering a new bucket of this server as datastore `name`."""
        return {
            "name": name,
            "type": "s3",
            "bucket": self.bucket(),
            "endpoint_url": self.url,
            "credentials": {"access_key_id": self.key, "secret_access_key": self.secret},
        }


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server in its own process (the same as `moto_server`)."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        require(False, "moto[server] (requirements-dev.txt)")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc, "moto server")
        yield S3Server(
            url=f"http://127.0.0.1:{port}", key="AKIA" + secrets.token_hex(8).upper(), secret=secrets.token_urlsafe(30)
        )
    finally:
        stop(proc)


@pytest.fixture(autouse=True)
def storage_dirs(settings, tmp_path):
    """Built-in datastores and allowed local folders live in this test's own tmp dir."""
    settings.STUDIO_DATASTORES_ROOT = tmp_path / "builtin"
    folders = tmp_path / "folders"
    folders.mkdir()
    settings.STUDIO_LOCAL_DATASTORE_ROOTS = [str(folders)]
    settings.STUDIO_BUILTIN_STORE = ""
    return tmp_path


@pytest.fixture
def local_folder(storage_dirs, workspace):
    """A folder in the workspace's own area of the allowed root (<root>/<workspace>/…)."""
    folder = storage_dirs / "folders" / workspace.name / "shared"
    folder.mkdir(parents=True)
    return folder
