"""Deployment instances on this node: `azureml-inference-server-http` processes started through
the sandbox, each on a free port of the node's address (STUDIO_NODE_ADDRESS) and behind its own
secret, kept alive by `reconcile(node_ids)` for the rows `endpoints.placement` assigned to this
worker's nodes.

A node's keeper thread (`endpoints.node_keeper`) runs `reconcile`; a file lock per node set keeps
two reconciles of the same nodes apart. Liveness is by pid and command line. The processes die
with the thread that started them (the sandbox's --die-with-parent), so a restarted worker finds
its rows without processes and starts them again.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compute import sandbox
from endpoints import mlflow_scoring, placement, routes
from endpoints.models import DeploymentInstance, InstanceStatus, OnlineDeployment
from registry import services as registry
from studio import crypto

log = logging.getLogger(__name__)
READY_TIMEOUT = 2.0
MAX_BACKOFF_SECONDS = 60
# The server binds 0.0.0.0 (its DEFAULT_HOST) and has no auth of its own: the launcher binds it to
# the node's address and makes every request carry the instance's secret (see its docstring).
LAUNCH = (Path(__file__).parent / "serving" / "launch_server.py").read_text()
KEY_FILE = ".instance-key"


@dataclass
class _Running:
    process: subprocess.Popen
    folder: Path


# instance pk -> its process, for the instances this worker process started (to reap them).
_RUNNING: dict[int, _Running] = {}
_LOCK = threading.Lock()


@contextlib.contextmanager
def _node_lock(node_ids: Collection[int]):
    """One reconcile at a time for these nodes, across threads and processes of this machine."""
    instances_root().mkdir(parents=True, exist_ok=True)
    name = "-".join(str(pk) for pk in sorted(node_ids)) or "none"
    with _LOCK, open(instances_root() / f".reconcile-{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def instances_root() -> Path:
    return Path(settings.STUDIO_ENDPOINTS_DIR)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def log_path(instance: DeploymentInstance) -> Path:
    return instances_root() / str(instance.deployment_id) / str(instance.pk) / "server.log"


def _materialize_model(deployment: OnlineDeployment, dest: Path) -> None:
    location = registry.files_location(deployment.model_version)
    base = location.path
    for entry in location.store.walk_files(base):
        rel = entry.path[len(base) :].lstrip("/")
        target = (dest / rel).resolve()
        if dest.resolve() not in target.parents:
            continue  # never outside the instance's folder
        location.store.download_file(entry.path, target)


def _python_for(deployment: OnlineDeployment) -> str:
    from environments.builds import ensure_built

    build = ensure_built(deployment.environment_version, "venv", workspace=deployment.endpoint.workspace, actor=None)
    return build.python


def _start(instance: DeploymentInstance) -> None:
    deployment = instance.deployment
    folder = log_path(instance).parent
    # The log stays (appended to), so a crash before a restart can still be read.
    shutil.rmtree(folder / "model", ignore_errors=True)
    shutil.rmtree(folder / "code", ignore_errors=True)
    (folder / "model").mkdir(parents=True)
    _materialize_model(deployment, folder / "model")
    if deployment.code is None:  # an MLflow model with no script: Studio's pyfunc scoring script
        script = mlflow_scoring.stage_scoring_script(folder / "code")
    else:
        shutil.copytree(deployment.code.path, folder / "code")
        script = deployment.scoring_script
    python = _python_for(deployment)
    host = settings.STUDIO_NODE_ADDRESS
    port = free_port(host)
    argv = [
        python,
        "-c",
        LAUNCH,
        "--entry_script",
        str(folder / "code" / script),
        "--port",
        str(port),
    ]
    secret = _hand_over_secret(folder)
    env = {
        "PATH": f"{Path(python).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(folder),
        "LANG": "C.UTF-8",
        **deployment.environment_variables,
        # Set last: a deployment's variables cannot point the server elsewhere.
        "AZUREML_MODEL_DIR": str(folder / "model"),
        "AZUREML_ENTRY_SCRIPT": str(folder / "code" / script),
        "PYTHONUNBUFFERED": "1",
        "STUDIO_INSTANCE_KEY_FILE": str(folder / KEY_FILE),
        "STUDIO_INSTANCE_HOST": host,
    }
    wrapped = sandbox.wrap(argv, workdir=folder / "code", writable=[folder], readonly=sandbox.python_paths(python))
    with open(folder / "server.log", "ab") as out:
        process = subprocess.Popen(wrapped, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _RUNNING[instance.pk] = _Running(process, folder)
    # `detail` keeps the last failure until the instance is ready again.
    DeploymentInstance.objects.filter(pk=instance.pk).update(
        host=host,
        port=port,
        pid=process.pid,
        secret_encrypted=crypto.encrypt(secret),
        status=InstanceStatus.STARTING,
        started_at=timezone.now(),
    )


def _hand_over_secret(folder: Path) -> str:
    """A new secret for the process about to start, in a file only this user can read, inside the
    instance's folder (which no other sandbox sees). The launcher reads and deletes it before the
    scoring script is imported; a restart gets a new one, so a leaked secret dies with its process."""
    secret = secrets.token_urlsafe(32)
    path = folder / KEY_FILE
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret)
    return secret


def _reap() -> None:
    """Collect the exit status of processes this worker process started (no zombies)."""
    for running in _RUNNING.values():
        running.process.poll()


def _pid_alive(instance: DeploymentInstance) -> bool:
    """Whether the instance's process runs. By pid and command line, not by this process's own
    handles: a prefork worker's reconciles run in different child processes."""
    if not instance.pid:
        return False
    try:
        cmdline = Path(f"/proc/{instance.pid}/cmdline").read_bytes()
    except OSError:
        return False
    # A reused pid, or a zombie (empty command line), is not the instance.
    return str(log_path(instance).parent).encode() in cmdline


def _alive(instance_pk: int) -> bool:
    instance = DeploymentInstance.objects.filter(pk=instance_pk).first()
    return instance is not None and _pid_alive(instance)


def _stop_pid(pid: int | None) -> None:
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    running = next((r for r in _RUNNING.values() if r.process.pid == pid), None)
    if running is not None:
        try:
            running.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(pid, signal.SIGKILL)
            running.process.wait()


def _stop(instance_pk: int, pid: int | None = None) -> None:
    running = _RUNNING.pop(instance_pk, None)
    _stop_pid(pid or (running.process.pid if running else None))


def ready(instance: DeploymentInstance) -> bool:
    """The server answers its liveness route (it runs the script's init() before it listens)."""
    try:
        answer = requests.get(
            f"http://{instance.host}:{instance.port}/",
            headers={routes.KEY_HEADER: instance.secret},
            timeout=READY_TIMEOUT,
        )
        return answer.status_code == 200
    except requests.RequestException:
        return False


def _fail(instance: DeploymentInstance, why: str) -> None:
    tail = ""
    path = log_path(instance)
    if path.is_file():
        tail = path.read_bytes()[-2000:].decode(errors="replace")
    DeploymentInstance.objects.filter(pk=instance.pk).update(status=InstanceStatus.FAILED, detail=f"{why}\n{tail}")


def reconcile(node_ids: Collection[int]) -> dict[str, int]:
    """Make the instances assigned to these nodes (this worker's; `endpoints.placement` assigns
    them) run: start new ones, restart dead ones, mark started ones ready once they answer, stop
    the ones told to stop or drained, and any process whose row moved away or is gone."""
    counts = {"started": 0, "restarted": 0, "ready": 0, "stopped": 0}
    with _node_lock(node_ids):
        _reap()
        rows = list(
            DeploymentInstance.objects.filter(node_id__in=node_ids).select_related(
                "deployment__endpoint__workspace", "deployment__code", "deployment__model_version"
            )
        )
        mine = {row.pk for row in rows}
        for pk in list(_RUNNING):
            if pk not in mine:  # moved to another node, or its deployment was deleted
                _stop(pk)
                counts["stopped"] += 1
        now = timezone.now()
        for instance in rows:
            deployment = instance.deployment
            if instance.status == InstanceStatus.STOPPED or (
                instance.status == InstanceStatus.DRAINING and (instance.stop_at is None or instance.stop_at <= now)
            ):
                _remove(instance, counts)
            elif instance.status == InstanceStatus.DRAINING:
                continue
            elif instance.generation != deployment.generation:
                if not _pid_alive(instance):  # an old instance that died is not brought back
                    _remove(instance, counts)
            else:
                _keep_alive(instance, counts)
    if any(counts.values()):
        routes.forget_all()  # this process's router sees the change at once
    return counts


def _remove(instance: DeploymentInstance, counts: dict[str, int]) -> None:
    _stop(instance.pk, instance.pid if _pid_alive(instance) else None)
    instance.delete()
    counts["stopped"] += 1


def _keep_alive(instance: DeploymentInstance, counts: dict[str, int]) -> None:
    """Start, restart (with back-off) or mark ready one instance of the current generation."""
    if not _pid_alive(instance):
        restarting = instance.pid is not None
        if restarting:
            if instance.status != InstanceStatus.FAILED:
                _RUNNING.pop(instance.pk, None)
                _fail(instance, "The server process ended; starting it again.")
                instance.refresh_from_db()
            # A server that keeps crashing (a broken init()) is retried less and less often.
            wait = min(2**instance.restarts, MAX_BACKOFF_SECONDS)
            if (timezone.now() - instance.started_at).total_seconds() < wait:
                return
            DeploymentInstance.objects.filter(pk=instance.pk).update(restarts=instance.restarts + 1)
        try:
            _start(instance)
        except Exception as exc:  # noqa: BLE001 - any failure is the instance's, shown on it
            log.exception("starting %s failed", instance.deployment)
            _fail(instance, f"Could not start: {exc}")
            return
        counts["restarted" if restarting else "started"] += 1
        return
    if instance.status != InstanceStatus.READY and ready(instance):
        DeploymentInstance.objects.filter(pk=instance.pk).update(status=InstanceStatus.READY, detail="")
        counts["ready"] += 1
        placement.drain_replaced(instance.deployment_id)


def stop_all(node_ids: Collection[int] = ()) -> None:
    """Stop every instance process this worker process started, and those of `node_ids`, and
    forget those nodes' rows (the worker is exiting; placement puts them elsewhere)."""
    with _node_lock(node_ids):
        for instance in DeploymentInstance.objects.filter(node_id__in=node_ids):
            _stop(instance.pk, instance.pid if _pid_alive(instance) else None)
        for pk in list(_RUNNING):
            _stop(pk)
        with transaction.atomic():
            DeploymentInstance.objects.filter(node_id__in=node_ids).update(
                node=None, host="", port=None, pid=None, secret_encrypted="", status=InstanceStatus.STARTING
            )
