"""Talking to Docker engines by address: checking an attached engine before it is saved, and a
client for the docker backend to reach it (TLS material decrypted only into a private temp dir
for the client's lifetime)."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import ssl
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from studio import crypto

CHECK_TIMEOUT = 8  # seconds; an ssh:// engine needs a round trip or two more than tcp://
# The docker SDK is imported where an engine is used, not at the top: importing it loads paramiko
# (its ssh:// transport), about a second on a busy 2-core machine, and this module is imported at
# start-up by every Django process (compute.backends, compute.capabilities), the web and the
# management commands included, most of which never talk to an engine.


@contextlib.contextmanager
def docker_client(docker_host: str, tls: dict[str, str] | None = None, timeout: int = 60) -> Iterator[Any]:
    """A docker SDK client for `docker_host` ("tcp://…", "ssh://…", "unix://…"); closed on exit."""
    import docker  # the docker SDK on use (see the note at the top)
    from docker.tls import TLSConfig  # the docker SDK on use (see the note at the top)

    with tempfile.TemporaryDirectory(prefix="studio-tls-") as folder:
        tls_config = None
        if tls:
            paths = {}
            for key, text in tls.items():
                path = Path(folder) / f"{key}.pem"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(text)
                paths[key] = str(path)
            client_cert = (paths["client_cert"], paths["client_key"]) if "client_cert" in paths else None
            tls_config = TLSConfig(
                client_cert=client_cert, ca_cert=paths.get("ca_cert"), verify=bool(paths.get("ca_cert"))
            )
        client = docker.DockerClient(
            base_url=docker_host,
            tls=tls_config or False,
            timeout=timeout,
            use_ssh_client=docker_host.startswith("ssh://"),
        )
        try:
            yield client
        finally:
            client.close()


def client_for_target(target) -> contextlib.AbstractContextManager:
    """The client for an attached target (its docker_host and decrypted TLS material)."""
    return docker_client(target.docker_host, crypto.decrypt_json(target.tls_encrypted) or None)


def check_engine(docker_host: str, tls: dict[str, str] | None = None) -> dict[str, Any]:
    """Contact the engine and return what it says about itself; raise a ValidationError on
    `docker_host` with the reason in words when it cannot be reached."""

    def _ask() -> dict[str, Any]:
        with docker_client(docker_host, tls, timeout=CHECK_TIMEOUT) as client:
            client.ping()
            version = client.version()
        return {
            "version": version.get("Version", ""),
            "api_version": version.get("ApiVersion", ""),
            "os": version.get("Os", ""),
            "arch": version.get("Arch", ""),
        }

    # ssh:// runs an ssh client that could wait on a prompt; never let a save hang on it.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-check")
    try:
        return pool.submit(_ask).result(timeout=CHECK_TIMEOUT + 4)
    except FutureTimeout:
        raise ValidationError(
            {"docker_host": [f"Cannot reach the Docker engine at {docker_host}: no answer within {CHECK_TIMEOUT} s."]}
        ) from None
    except Exception as exc:  # the SDK wraps every failure differently; say it in words
        reason = explain(exc)
        if docker_host.startswith("ssh://") and "pipe" in reason.lower():
            reason = (
                "the ssh connection failed (Studio runs the machine's ssh client with key authentication: "
                "`ssh <user@host> docker version` must work from the Studio server and the workers)"
            )
        raise ValidationError(
            {"docker_host": [f"Cannot reach the Docker engine at {docker_host}: {reason}."]}
        ) from None
    finally:
        pool.shutdown(wait=False)


def explain(exc: BaseException) -> str:
    """The root cause of a connection failure, in a few words."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused (is the engine listening there?)"
        if isinstance(current, FileNotFoundError):
            return "no such socket"
        if isinstance(current, BrokenPipeError):
            return "broken pipe"
        if isinstance(current, PermissionError):
            return "permission denied"
        if isinstance(current, (socket.timeout, TimeoutError)):
            return "timed out"
        if isinstance(current, socket.gaierror):
            return "unknown host name"
        if isinstance(current, ssl.SSLError):
            return f"TLS handshake failed ({current.reason or current})"
        if isinstance(current, OSError) and current.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "host unreachable"
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        reason = getattr(current, "reason", None)  # urllib3's MaxRetryError keeps the cause here
        if not isinstance(reason, BaseException):
            reason = None
        current = current.__cause__ or reason or nested or current.__context__
    # Never the exception's text: it can quote whatever answered at that address (studio.netcheck).
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status:
        return f"it answered HTTP {status}, not as a Docker engine does"
    return f"no Docker engine answered ({type(exc).__name__})"
