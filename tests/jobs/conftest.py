"""Job fixtures: environments to run in, code zips, and an in-process node that runs queued jobs
with the real runner (real processes and containers; only the Celery hop is replaced)."""

from __future__ import annotations

import io
import shutil
import threading
import time
import zipfile

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import require


def make_zip(files: dict[str, str | bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    buf.seek(0)
    buf.name = "code.zip"
    return buf


def make_environment(workspace, owner, name: str, **definition):
    from environments import services, spec

    data = {"name": name, "image": settings.STUDIO_BASE_IMAGE, **definition}
    return services.do_create_environment_version(workspace, actor=owner, definition=spec.parse(data))


@pytest.fixture
def plain_env(workspace, owner):
    """An environment with no extra packages (a bare venv; the base image on docker)."""
    return make_environment(workspace, owner, "plain")


def docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.images.get(settings.STUDIO_BASE_IMAGE)
        client.close()
        return True
    except Exception:
        return False


@pytest.fixture
def docker_target(workspace, owner):
    require(docker_available(), f"a Docker engine with the image {settings.STUDIO_BASE_IMAGE}")
    from compute.models import Backend, ComputeTarget, ComputeType

    return ComputeTarget.objects.create(
        workspace=workspace, name="dock", type=ComputeType.DOCKER, backend=Backend.DOCKER, cpu_cores=2, memory_mb=2048
    )


class Node:
    """Runs what `enqueue` sends, each job in its own thread, like a worker with free slots."""

    def __init__(self):
        self.threads: list[threading.Thread] = []
        self.sent: list[int] = []

    def send(self, job_id: int, queue: str) -> None:
        from jobs.runner import execute_job

        self.sent.append(job_id)

        def work():
            try:
                execute_job(job_id, node="test-node@localhost")
            finally:
                connection.close()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))


@pytest.fixture
def node(monkeypatch, transactional_db):
    """Submitted jobs run at once on this test process (the real runner, in threads)."""
    the_node = Node()
    monkeypatch.setattr("jobs.services.submit.send_run", the_node.send)
    yield the_node
    the_node.join(60)


@pytest.fixture
def no_dispatch(monkeypatch):
    """Submitted jobs stay Queued (nothing picks them up)."""
    sent = []
    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: sent.append((job_id, queue)))
    return sent


def wait_for(predicate, timeout: float = 60, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


def wait_status(job, statuses, timeout: float = 90):
    from jobs.models import Job

    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    return wait_for(lambda: (j := Job.objects.get(pk=job.pk)).status in statuses and j, timeout)


@pytest.fixture(autouse=True)
def _clean_job_dirs():
    yield
    shutil.rmtree(settings.STUDIO_JOBS_DIR, ignore_errors=True)
