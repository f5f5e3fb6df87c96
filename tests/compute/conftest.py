"""Helpers of the compute tests: targets made through the services, nodes registered as a worker
would, and real worker processes (`manage.py studio_worker`) for the tests that need them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from compute import services
from compute.models import ComputeTarget, Node
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
REPORT = {"cpu_count": 2, "memory_mb": 4096, "gpus": 0, "backends": {}, "pythons": []}


def make_target(workspace, actor, **data) -> ComputeTarget:
    data.setdefault("type", "cluster")
    return services.do_create_compute(workspace, data=data, actor=actor)


def register(target, worker="w1@host", capacity=1) -> Node:
    """A node as a worker's agent registers it (no process behind it)."""
    return services.do_register_node(
        queue=target.queue_name, worker_name=worker, hostname="host", pid=123, capacity=capacity, report=REPORT
    )


@pytest.fixture
def cluster(workspace, owner):
    return make_target(workspace, owner, name="cpu-cluster", size="Standard_DS3_v2", min_instances=0, max_instances=2)


@pytest.fixture
def instance(workspace, owner, members):
    return make_target(workspace, owner, name="ds-box", type="computeinstance", assigned_to="datascientist_user")


# --- real worker processes -----------------------------------------------------------------


def database_url() -> str | None:
    """The test database as a URL another process can open, or None (in-memory SQLite)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("postgresql"):
        auth = quote(s["USER"] or "")
        if s.get("PASSWORD"):
            auth += ":" + quote(s["PASSWORD"])
        host = s.get("HOST") or "127.0.0.1"
        port = s.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{s['NAME']}"
    if s["ENGINE"].endswith("sqlite3") and not connection.is_in_memory_db():
        return f"sqlite:///{s['NAME']}"
    return None


def broker_reachable() -> bool:
    from studio.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception:
        return False
    return True


@pytest.fixture
def worker_env(transactional_db):
    """Environment for worker subprocesses that share this test's database and broker."""
    url = database_url()
    require(
        url is not None,
        "a database other processes can open (run with DATABASE_URL=postgres://…; pytest-django's SQLite is in memory)",
    )
    require(
        settings.CELERY_BROKER_URL.startswith("redis://") and broker_reachable(), "a Redis broker (CELERY_BROKER_URL)"
    )
    return os.environ | {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "STUDIO_NODE_HEARTBEAT_SECONDS": "1",
        "STUDIO_NODE_UNREACHABLE_SECONDS": "30",
        "PYTHONUNBUFFERED": "1",
    }


class Workers:
    """Starts `manage.py studio_worker` processes and always stops them."""

    def __init__(self, env: dict, logdir: Path):
        self.env = env
        self.logdir = logdir
        self.procs: list[subprocess.Popen] = []

    def start(self, address: str, *extra: str) -> subprocess.Popen:
        """`manage.py studio_worker --compute <address>`."""
        return self.run([sys.executable, "manage.py", "studio_worker", "--compute", address, "--pool", "solo", *extra])

    def start_celery(self, queue: str, name: str) -> subprocess.Popen:
        """The documented plain line: `celery -A studio worker -Q <queue> -c 1 -n <name>@%h`."""
        return self.run([sys.executable, "-m", "celery", "-A", "studio", "worker", "-Q", queue, "-c", "1", "-n", name])

    def run(self, argv: list[str]) -> subprocess.Popen:
        log = open(self.logdir / f"worker-{len(self.procs)}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log_path = log.name
        proc.log_file = log
        self.procs.append(proc)
        return proc

    def log(self, proc) -> str:
        return Path(proc.log_path).read_text(errors="replace")

    def stop(self, proc, sig=signal.SIGTERM, timeout: float = 30) -> int:
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait(10)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.stop(proc, timeout=15)
            proc.log_file.close()


@pytest.fixture
def workers(worker_env, tmp_path):
    pool = Workers(worker_env, tmp_path)
    try:
        yield pool
    finally:
        pool.close()


def wait_for(predicate, timeout: float = 30, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def purged(*queues: str):
    """Start from empty queues (the broker outlives test runs)."""
    from studio.celery import app

    with app.connection_for_write() as conn:
        for queue in queues:
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # a queue never declared has nothing to purge
                pass
    yield
