"""How a deployment instance's inference server runs on its node: a sandboxed process (the venv
backend, and the shared local target) or a container of the environment's image (a docker-backend
target). `instances.reconcile` decides what should run; a `Runtime` only starts, checks and stops.

Both run the same launcher (`serving/launch_server.py`) with the same per-instance secret file in
the instance's folder, bound to the node's address, and write the server's output to that folder's
`server.log` (its node ships it to the log stream the Logs tab reads: `endpoints.instance_logs`).

A process dies with the keeper thread that started it (the sandbox's --die-with-parent). A
container does not: it is labelled with this install, its node's worker and its instance, and
`ContainerRuntime.sweep` removes the ones whose instance row is gone or moved (a deleted
deployment, a restarted worker).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import stat
import subprocess
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.conf import settings

from compute import sandbox
from compute.backends.docker_runner import INSTALL_LABEL, NODE_LABEL, chown_tree, docker_client, job_user
from compute.models import Backend
from endpoints.models import DeploymentInstance, OnlineDeployment
from environments.builds import ensure_built

log = logging.getLogger(__name__)
# The server binds 0.0.0.0 (its DEFAULT_HOST) and has no auth of its own: the launcher binds it to
# the node's address and makes every request carry the instance's secret (see its docstring).
LAUNCH = (Path(__file__).parent / "serving" / "launch_server.py").read_text()
KEY_FILE = ".instance-key"
INSTANCE_LABEL = "studio.instance"
CONTAINER_ROOT = "/instance"
# The docker SDK is imported where a container is handled, not here: importing it loads paramiko
# (its ssh:// transport), about a second on a busy 2-core machine, and this module is imported by
# every Django process (endpoints.apps -> node_keeper -> instances), the web and management
# commands included, while only a docker-backend target's node ever runs a container.


@dataclass
class Launch:
    """What to start: the instance's folder on this host (`code/`, `model/`, the key file and
    `server.log`), its scoring script (relative to `code/`), where to listen, and the
    deployment's own environment variables."""

    instance: DeploymentInstance
    folder: Path
    script: str
    host: str
    port: int
    variables: dict[str, str] = field(default_factory=dict)

    def environment(self, root: Path, python: str) -> dict[str, str]:
        """The server's variables, with the folder seen as `root` (the host's or the container's)."""
        return {
            "PATH": f"{Path(python).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            **self.variables,
            # Set last: a deployment's variables cannot point the server elsewhere.
            "AZUREML_MODEL_DIR": str(root / "model"),
            "AZUREML_ENTRY_SCRIPT": str(root / "code" / self.script),
            "PYTHONUNBUFFERED": "1",
            "STUDIO_INSTANCE_KEY_FILE": str(root / KEY_FILE),
            "STUDIO_INSTANCE_HOST": self.host,
        }

    def argv(self, root: Path, python: str) -> list[str]:
        return [python, "-c", LAUNCH, "--entry_script", str(root / "code" / self.script), "--port", str(self.port)]


class Runtime(Protocol):
    def start(self, launch: Launch) -> int:
        """Start the server; returns the pid of its first process on this host."""
        ...

    def alive(self, instance: DeploymentInstance, folder: Path) -> bool:
        """Whether the server `start` last started for this row still runs."""
        ...

    def stop(self, instance: DeploymentInstance) -> None:
        """Stop it (nothing when it is not running)."""
        ...


def open_log(path: Path, mode: str = "rb"):
    """An instance's `server.log`, never through a symlink: the server can write its folder, and a
    link it planted there must not make Studio read (onto the Logs tab) or append to (as the
    worker's user) another file of the host. "rb" or "ab"."""
    flags = os.O_RDONLY if mode == "rb" else os.O_WRONLY | os.O_APPEND | os.O_CREAT
    # O_NONBLOCK: opening a FIFO planted there would otherwise wait for a writer (or reader) for
    # ever, and with it the node's keeper of every workspace's instances. Only a regular file is used.
    descriptor = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "an instance's server.log must be a regular file", str(path))
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, mode)


def runtime_for(deployment: OnlineDeployment) -> Runtime:
    """Containers on a docker-backend target; sandboxed processes everywhere else."""
    if deployment.compute_id and deployment.compute.backend == Backend.DOCKER:
        return CONTAINERS
    return PROCESSES


class ProcessRuntime:
    """The server as a bubblewrap-sandboxed process of this worker, in the venv build."""

    def __init__(self):
        # pid -> process, for the processes this worker process started (to reap them).
        self._children: dict[int, subprocess.Popen] = {}

    def start(self, launch: Launch) -> int:
        deployment = launch.instance.deployment
        python = ensure_built(
            deployment.environment_version, "venv", workspace=deployment.endpoint.workspace, actor=None
        ).python
        folder = launch.folder
        wrapped = sandbox.wrap(
            launch.argv(folder, python),
            workdir=folder / "code",
            writable=[folder],
            readonly=sandbox.python_paths(python),
        )
        with open_log(folder / "server.log", "ab") as out:
            process = subprocess.Popen(
                wrapped,
                env=launch.environment(folder, python),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._children[process.pid] = process
        return process.pid

    def reap(self) -> None:
        """Collect the exit status of processes this worker process started (no zombies)."""
        for pid, process in list(self._children.items()):
            if process.poll() is not None:
                del self._children[pid]

    def alive(self, instance: DeploymentInstance, folder: Path) -> bool:
        """By pid and command line, not by this process's own handles: a prefork worker's
        reconciles run in different child processes."""
        if not instance.pid:
            return False
        try:
            cmdline = Path(f"/proc/{instance.pid}/cmdline").read_bytes()
        except OSError:
            return False
        # A reused pid, or a zombie (empty command line), is not the instance.
        return str(folder).encode() in cmdline

    def stop(self, instance: DeploymentInstance) -> None:
        self.stop_pid(instance.pid)

    def stop_pid(self, pid: int | None) -> None:
        if not pid:
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return
        process = self._children.pop(pid, None)
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(pid, signal.SIGKILL)
                process.wait()

    def stop_all_children(self) -> None:
        for pid in list(self._children):
            self.stop_pid(pid)


class ContainerRuntime:
    """The server in a container of the environment's docker image, like a job's: non-root, no
    capabilities, no new privileges, the PID limit of jobs and the target's memory, the host's
    network (bound to the node's address). Mounted: the instance's folder (read-write, for the
    log and the key file the launcher deletes) with its `code/` and `model/` read-only on top."""

    def name(self, instance_pk: int) -> str:
        return f"studio-instance-{settings.STUDIO_INSTALL_ID}-{instance_pk}"

    def start(self, launch: Launch) -> int:
        from docker.types import LogConfig  # the docker SDK on use (see the note at the top)

        instance = launch.instance
        deployment = instance.deployment
        target = deployment.compute
        build = ensure_built(
            deployment.environment_version, "docker", workspace=deployment.endpoint.workspace, actor=None
        )
        root = Path(CONTAINER_ROOT)
        uid, gid = job_user()
        # The output goes to server.log, never to the engine's log: the keeper ships the file.
        command = ["/bin/sh", "-c", f'exec "$0" "$@" >> {root}/server.log 2>&1', *launch.argv(root, build.python)]
        client = docker_client()
        try:
            # The previous container first: nothing of it may change the folder while it is handed over.
            self._remove(client, instance.pk)
            if (uid, gid) != (os.getuid(), os.getgid()):
                chown_tree(launch.folder, uid, gid)  # the key file stays 0600, now the container user's
            engine_cpus = client.info().get("NCPU") or 1
            container = client.containers.run(
                build.image or build.location,
                command=command,
                name=self.name(instance.pk),
                working_dir=f"{root}/code",
                environment=launch.environment(root, build.python),
                volumes={
                    str(launch.folder): {"bind": str(root), "mode": "rw"},
                    str(launch.folder / "code"): {"bind": f"{root}/code", "mode": "ro"},
                    str(launch.folder / "model"): {"bind": f"{root}/model", "mode": "ro"},
                },
                network_mode="host",
                user=f"{uid}:{gid}",
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                pids_limit=settings.STUDIO_JOB_PIDS_LIMIT,
                mem_limit=f"{target.memory_mb}m",
                memswap_limit=f"{target.memory_mb}m",
                nano_cpus=int(min(float(target.cpu_cores), engine_cpus) * 1e9),
                labels={
                    INSTALL_LABEL: settings.STUDIO_INSTALL_ID,
                    NODE_LABEL: instance.node.worker_name if instance.node_id else "",
                    INSTANCE_LABEL: str(instance.pk),
                },
                init=True,
                detach=True,
                log_config=LogConfig(type="none"),
            )
            container.reload()
            return int(container.attrs["State"]["Pid"]) or 1
        finally:
            client.close()

    def alive(self, instance: DeploymentInstance, folder: Path) -> bool:
        import docker.errors  # the docker SDK on use (see the note at the top)

        if not instance.pid:
            return False
        client = docker_client(timeout=10)
        try:
            state = client.api.inspect_container(self.name(instance.pk)).get("State") or {}
        except docker.errors.NotFound:
            return False
        finally:
            client.close()
        return bool(state.get("Running"))

    def stop(self, instance: DeploymentInstance) -> None:
        client = docker_client()
        try:
            self._remove(client, instance.pk)
        finally:
            client.close()

    def _remove(self, client, instance_pk: int) -> None:
        """Killed and removed at once: a stopped instance has already drained its requests."""
        import docker.errors  # the docker SDK on use (see the note at the top)

        try:
            client.api.remove_container(self.name(instance_pk), force=True)
        except docker.errors.NotFound:
            pass

    def sweep(self, worker_names: Collection[str], keep: Collection[int]) -> int:
        """Remove this install's instance containers of these nodes' workers whose instance is not
        in `keep` (deleted, moved away, or left by a worker that died). Returns how many."""
        import docker.errors  # the docker SDK on use (see the note at the top)

        removed = 0
        client = docker_client(timeout=10)
        try:
            rows = client.api.containers(
                all=True, filters={"label": [f"{INSTALL_LABEL}={settings.STUDIO_INSTALL_ID}", INSTANCE_LABEL]}
            )
            for row in rows:
                labels = row.get("Labels") or {}
                pk = labels.get(INSTANCE_LABEL, "")
                if labels.get(NODE_LABEL) in worker_names and not (pk.isdigit() and int(pk) in keep):
                    try:
                        client.api.remove_container(row["Id"], force=True)
                        removed += 1
                    except docker.errors.APIError:  # NotFound included: it went away by itself
                        pass
        finally:
            client.close()
        return removed


PROCESSES = ProcessRuntime()
CONTAINERS = ContainerRuntime()
