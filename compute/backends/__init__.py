"""How a compute target materialises an environment: `venv` (a virtualenv made by uv) or
`docker` (an image built by the Docker engine). One interface:

    backend = get_backend("venv")
    ok, reason = backend.available()
    output = backend.build(spec, log)      # BuildSpec -> BuildOutput, or BuildError

Builds are idempotent by spec hash: the venv folder and the image tag are named after it.
"""

from __future__ import annotations

from compute.backends import runners
from compute.backends.base import BuildError, BuildOutput, BuildSpec, failing_line
from compute.backends.docker import DockerBackend
from compute.backends.venv import VenvBackend
from compute.models import Backend

# The backend kinds, in the order pages show them: compute.models.Backend is their one definition.
KINDS = tuple(Backend.values)

__all__ = ["KINDS", "BuildError", "BuildOutput", "BuildSpec", "failing_line", "get_backend", "runner_for"]


def get_backend(kind: str):
    """The backend for `kind` ("venv" or "docker")."""
    if kind == Backend.VENV:
        return VenvBackend()
    if kind == Backend.DOCKER:
        return DockerBackend()
    raise ValueError(f"unknown backend {kind!r}; choose one of {', '.join(KINDS)}")


def runner_for(kind: str):
    """The run half of backend `kind`: where a job's folder appears, how it is sandboxed and
    started (compute/backends/runners.py)."""
    return runners.runner_for(kind)
