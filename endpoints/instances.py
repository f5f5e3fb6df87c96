"""Deployment instances on this node: `azureml-inference-server-http` servers (sandboxed processes,
or containers on a docker-backend target: `endpoints.runtimes`), each on a free port of the
node's address (STUDIO_NODE_ADDRESS) and behind its own secret, kept alive by
`reconcile(node_ids)` for the rows `endpoints.placement` assigned to this worker's nodes.

A node's keeper thread (`endpoints.node_keeper`) runs `reconcile`; a file lock per node set keeps
two reconciles of the same nodes apart. Liveness is the runtime's (pid and command line, or a
running container). Processes die with the thread that started them (the sandbox's
--die-with-parent) and containers are swept, so a restarted worker finds its rows without servers
and starts them again.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import socket
import threading
from collections.abc import Collection
from pathlib import Path

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compute.models import Backend, ComputeTarget, Node
from endpoints import instance_logs, mlflow_scoring, placement, routes
from endpoints.models import DeploymentInstance, InstanceStatus, OnlineDeployment
from endpoints.runtimes import CONTAINERS, KEY_FILE, PROCESSES, Launch, runtime_for
from registry import services as registry
from studio import crypto

log = logging.getLogger(__name__)
READY_TIMEOUT = 2.0
MAX_BACKOFF_SECONDS = 60
__all__ = ["KEY_FILE", "free_port", "instances_root", "log_path", "ready", "reconcile", "stop_all"]

# instance pk -> the pid of the process this worker process started for it (to stop it when its
# row moves away or is deleted).
_RUNNING: dict[int, int] = {}
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


def _start(instance: DeploymentInstance) -> None:
    deployment = instance.deployment
    folder = log_path(instance).parent
    # The file is appended to; its stream ships only what this start adds.
    folder.mkdir(parents=True, exist_ok=True)
    instance_logs.start_at(instance, log_path(instance))
    shutil.rmtree(folder / "model", ignore_errors=True)
    shutil.rmtree(folder / "code", ignore_errors=True)
    (folder / "model").mkdir(parents=True)
    _materialize_model(deployment, folder / "model")
    if deployment.code is None:  # an MLflow model with no script: Studio's pyfunc scoring script
        script = mlflow_scoring.stage_scoring_script(folder / "code")
    else:
        shutil.copytree(deployment.code.path, folder / "code")
        script = deployment.scoring_script
    host = settings.STUDIO_NODE_ADDRESS
    port = free_port(host)
    secret = _hand_over_secret(folder)
    runtime = runtime_for(deployment)
    pid = runtime.start(Launch(instance, folder, script, host, port, dict(deployment.environment_variables)))
    if runtime is PROCESSES:
        _RUNNING[instance.pk] = pid
    # `detail` keeps the last failure until the instance is ready again.
    DeploymentInstance.objects.filter(pk=instance.pk).update(
        host=host,
        port=port,
        pid=pid,
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


def _server_alive(instance: DeploymentInstance) -> bool:
    """Whether the instance's server (process or container) runs."""
    return runtime_for(instance.deployment).alive(instance, log_path(instance).parent)


def _alive(instance_pk: int) -> bool:
    instance = DeploymentInstance.objects.select_related("deployment__compute").filter(pk=instance_pk).first()
    return instance is not None and _server_alive(instance)


def _stop(instance: DeploymentInstance) -> None:
    _RUNNING.pop(instance.pk, None)
    runtime = runtime_for(instance.deployment)
    if runtime is CONTAINERS or _server_alive(instance):  # a dead process's pid may be someone else's now
        runtime.stop(instance)


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
    """The server has ended (or never started): ship the rest of its log and show its tail (the
    traceback of a broken init(), say) as the instance's detail."""
    instance_logs.ship(instance, log_path(instance), final=True)
    tail = instance_logs.tail(instance.pk)
    DeploymentInstance.objects.filter(pk=instance.pk).update(status=InstanceStatus.FAILED, detail=f"{why}\n{tail}")


def reconcile(node_ids: Collection[int]) -> dict[str, int]:
    """Make the instances assigned to these nodes (this worker's; `endpoints.placement` assigns
    them) run: start new ones, restart dead ones, mark started ones ready once they answer, stop
    the ones told to stop or drained, and any process whose row moved away or is gone."""
    counts = {"started": 0, "restarted": 0, "ready": 0, "stopped": 0}
    with _node_lock(node_ids):
        PROCESSES.reap()
        rows = list(
            DeploymentInstance.objects.filter(node_id__in=node_ids).select_related(
                "deployment__endpoint__workspace",
                "deployment__code",
                "deployment__model_version",
                "deployment__compute",
                "node",
            )
        )
        mine = {row.pk for row in rows}
        for pk in list(_RUNNING):
            if pk not in mine:  # moved to another node, or its deployment was deleted
                PROCESSES.stop_pid(_RUNNING.pop(pk))
                counts["stopped"] += 1
        workers = _container_workers(node_ids)
        if workers:
            try:
                counts["stopped"] += CONTAINERS.sweep(workers, keep=mine)
            except Exception:  # noqa: BLE001 - an engine away for a moment must not stall the other rows
                log.exception("removing the leftover instance containers of %s failed; retrying", sorted(workers))
        now = timezone.now()
        for instance in rows:
            deployment = instance.deployment
            if instance.pid is not None:  # started on this node: its log_offset is of this node's file
                instance_logs.ship(instance, log_path(instance))
            if instance.status == InstanceStatus.STOPPED or (
                instance.status == InstanceStatus.DRAINING and (instance.stop_at is None or instance.stop_at <= now)
            ):
                _remove(instance, counts)
            elif instance.status == InstanceStatus.DRAINING:
                continue
            elif instance.generation != deployment.generation:
                if not _server_alive(instance):  # an old instance that died is not brought back
                    _remove(instance, counts)
            else:
                _keep_alive(instance, counts)
    if any(counts.values()):
        routes.forget_all()  # this process's router sees the change at once
    return counts


def _container_workers(node_ids: Collection[int]) -> set[str]:
    """The worker names of those of these nodes that serve a docker-backend target (whose
    instance containers, unlike processes, outlive the worker that started them)."""
    nodes = dict(Node.objects.filter(pk__in=node_ids).values_list("worker_name", "queue"))
    docker = ComputeTarget.objects.on_queues(set(nodes.values())).filter(backend=Backend.DOCKER)
    docker_queues = {t.queue_name for t in docker.select_related("workspace")}
    return {worker for worker, queue in nodes.items() if queue in docker_queues}


def _remove(instance: DeploymentInstance, counts: dict[str, int]) -> None:
    _stop(instance)
    instance.delete()
    counts["stopped"] += 1


def _keep_alive(instance: DeploymentInstance, counts: dict[str, int]) -> None:
    """Start, restart (with back-off) or mark ready one instance of the current generation."""
    if not _server_alive(instance):
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
    """Stop every instance process this worker process started, and the servers of `node_ids`,
    and forget those nodes' rows (the worker is exiting; placement puts them elsewhere)."""
    with _node_lock(node_ids):
        for instance in DeploymentInstance.objects.filter(node_id__in=node_ids).select_related("deployment__compute"):
            _stop(instance)
            if instance.pid is not None:
                instance_logs.ship(instance, log_path(instance), final=True)
        for pk in list(_RUNNING):
            PROCESSES.stop_pid(_RUNNING.pop(pk))
        with transaction.atomic():
            DeploymentInstance.objects.filter(node_id__in=node_ids).update(
                node=None, host="", port=None, pid=None, secret_encrypted="", status=InstanceStatus.STARTING
            )
