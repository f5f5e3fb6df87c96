"""The run half of each backend behind one protocol, so the job runner never asks "is this
docker?": `runner_for(kind)` answers where the job's folder appears, what the image puts on PATH,
how the run is sandboxed and how it is started.

    runner = runner_for("venv")
    spec = runner.run_spec(command=..., root=..., code=..., outputs=..., inputs=..., python=..., ...)
    with runner.running(spec, target=..., node=..., is_over=...) as run:
        run.pump(sink); result = run.wait()
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings

from compute import sandbox
from compute.backends.docker_runner import NODE_LABEL, DockerRun, docker_client, image_env, job_user, remove_leftovers
from compute.backends.process_runner import Mount, ProcessRun, RunSpec
from compute.engines import client_for_target

CONTAINER_ROOT = "/job"  # where a container sees the job's folder


class VenvRunner:
    """A process on this node, in the bubblewrap sandbox."""

    kind = "venv"
    in_container = False

    def isolation(self) -> str:
        """The line every job's system log starts its run with: how it is isolated."""
        return sandbox.status().headline

    def refusal(self) -> str:
        """Why this node must not run user code ("" when it may)."""
        state = sandbox.status()
        return "" if state.allowed else state.headline

    def image_path(self, target, image: str) -> str:
        return ""

    def run_spec(self, *, command: str, root: Path, code: Path, python: str, image: str, **common) -> RunSpec:
        spec = RunSpec(command=command, workdir=code, **common)
        spec.writable = [root]
        spec.readonly = sandbox.python_paths(python) if python else []
        return spec

    @contextlib.contextmanager
    def running(self, spec: RunSpec, *, target=None, node: str = "", is_over: Callable[[str], bool] | None = None):
        with ProcessRun(spec) as run:
            yield run


class DockerRunner:
    """A container on the target's Docker engine (attached engines included)."""

    kind = "docker"
    in_container = True

    def isolation(self) -> str:
        uid, gid = job_user()
        return (
            f"Sandbox: container as uid {uid}:{gid}, no capabilities, no-new-privileges, "
            f"at most {settings.STUDIO_JOB_PIDS_LIMIT} processes; only the job's folder is mounted"
        )

    def refusal(self) -> str:
        return ""

    def image_path(self, target, image: str) -> str:
        """PATH as the image sets it (its venv first)."""
        with engine(target) as client:
            return image_env(client, image).get("PATH", "")

    def run_spec(self, *, command: str, root: Path, code: Path, python: str, image: str, **common) -> RunSpec:
        spec = RunSpec(command=command, workdir=code, **common)
        spec.image = image
        spec.container_workdir = f"{CONTAINER_ROOT}/code"
        spec.mounts = [
            Mount(code, f"{CONTAINER_ROOT}/code", read_only=True),
            Mount(root / "outputs", f"{CONTAINER_ROOT}/outputs", read_only=False),
            Mount(root / "inputs", f"{CONTAINER_ROOT}/inputs", read_only=True),
            Mount(root / ".studio", f"{CONTAINER_ROOT}/.studio", read_only=True),
        ]
        return spec

    @contextlib.contextmanager
    def running(self, spec: RunSpec, *, target=None, node: str = "", is_over: Callable[[str], bool] | None = None):
        spec.labels = {**spec.labels, NODE_LABEL: node}
        with engine(target) as client:
            if is_over is not None:
                remove_leftovers(is_over, client, node)
            with DockerRun(spec, client=client) as run:
                yield run


@contextlib.contextmanager
def engine(target) -> Iterator:
    """A docker client for a compute target: an attached engine (with its TLS material), else the
    engine this node reaches (DOCKER_HOST or the local socket). Closed on exit."""
    if target is not None and getattr(target, "docker_host", ""):
        with client_for_target(target) as client:
            yield client
        return

    client = docker_client()
    try:
        yield client
    finally:
        client.close()


def runner_for(kind: str) -> VenvRunner | DockerRunner:
    """The run half of backend `kind` ("venv" or "docker")."""
    if kind == "venv":
        return VenvRunner()
    if kind == "docker":
        return DockerRunner()
    raise ValueError(f"unknown backend {kind!r}")
