"""The web's PostgreSQL connection pool (STUDIO_DB_POOL_SIZE), under a real uvicorn: live log
streams (SSE) do not hold pooled connections, so API requests are answered while more streams are
open than the pool has connections, the server never opens more than the pool allows, and
connections PostgreSQL dropped are replaced without failing a request."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from jobs import services as job_services
from studio import logs
from studio.services import do_create_token
from tests.compute.conftest import worker_env, workers  # noqa: F401 - fixtures
from tests.conftest import require
from tests.jobs.conftest import make_environment, no_dispatch  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]
POOL = 2
STREAMS = 5
API_CALLS = 12
APP_NAME = "studio-pool-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_until(chunks, marker: bytes) -> bool:
    """Read a stream's chunks until `marker` has come (the read times out after the request's 30 s)."""
    seen = b""
    for chunk in chunks:
        seen += chunk
        if marker in seen:
            return True
    return False


def _server_connections() -> int:
    """The web server's connections to the test database (libpq names them after PGAPPNAME); not
    those a thread of an earlier test may still hold in this process, nor any other process's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [APP_NAME],
        )
        return cursor.fetchone()[0]


def test_api_requests_are_answered_while_more_log_streams_are_open_than_the_pool_has(
    workers,  # noqa: F811
    no_dispatch,  # noqa: F811
    workspace,
    owner,
):
    require(connection.vendor == "postgresql", "PostgreSQL (the pool is PostgreSQL's)")
    require(importlib.util.find_spec("psycopg_pool") is not None, "psycopg-pool (requirements.txt)")
    make_environment(workspace, owner, "plain")
    job = job_services.do_submit_job(workspace, actor=owner, data={"command": "echo hi", "environment": "plain:1"})
    _, token = do_create_token(user=owner, name="pool-test")
    browser = Client()
    browser.force_login(owner)
    cookies = {"sessionid": browser.cookies["sessionid"].value}

    port = _free_port()
    workers.env |= {"STUDIO_DB_POOL_SIZE": str(POOL), "STUDIO_DB_POOL_TIMEOUT": "5", "PGAPPNAME": APP_NAME}
    server = workers.run(
        [sys.executable, "-m", "uvicorn", "studio.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{base}/login/", timeout=5)
            break
        except requests.RequestException:
            assert server.poll() is None and time.monotonic() < deadline, workers.log(server)
            time.sleep(0.3)

    # More live log streams than the pool has connections; the job stays Queued, so none ends.
    streams = []
    for _ in range(STREAMS):
        stream = requests.get(
            f"{base}/w/{workspace.name}/jobs/{job.name}/log/stream/", cookies=cookies, stream=True, timeout=30
        )
        assert stream.status_code == 200, stream.text
        chunks = stream.iter_content(chunk_size=None)
        assert _read_until(chunks, b"retry: 1500"), workers.log(server)[-3000:]
        streams.append((stream, chunks))
    try:
        time.sleep(1.5)  # every stream is polling

        def api_call(_: int) -> tuple[int, float]:
            start = time.monotonic()
            answer = requests.get(
                f"{base}/api/v1/workspaces/{workspace.name}/jobs/{job.name}/",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            return answer.status_code, time.monotonic() - start

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(api_call, range(API_CALLS)))
        assert [status for status, _ in answers] == [200] * API_CALLS, workers.log(server)[-3000:]
        # Well under the pool's wait (5 s): nothing waited for a stream to give a connection back.
        assert max(seconds for _, seconds in answers) < 4, answers
        opened = _server_connections()
        assert 0 < opened <= POOL, f"the web never opens more than its pool's connections: {opened}"
        # PostgreSQL drops the web's connections (a restart, an administrator): the pool checks a
        # connection as it hands it out, so no request fails on a dead one.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s",
                [APP_NAME],
            )
            assert cursor.fetchone()[0] >= 1
        after = [api_call(i)[0] for i in range(POOL + 1)]
        assert after == [200] * (POOL + 1), workers.log(server)[-3000:]
        # The streams are still alive: a new log line reaches every one of them.
        logs.append(job.log_stream(), "still streaming\n")
        for _, chunks in streams:
            assert _read_until(chunks, b"still streaming"), workers.log(server)[-3000:]
    finally:
        for stream, _ in streams:
            stream.close()
        workers.stop(server)


def _pool_setting(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import studio.settings as s; d = s.DATABASES['default'];"
        " print(d.get('OPTIONS', {}).get('pool'), d['CONN_HEALTH_CHECKS'])"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_DB_POOL", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean | {"STUDIO_SECRET_KEY": "x" * 50, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_pool_setting_applies_to_postgresql_only_and_refuses_persistent_connections():
    postgres = "postgres://studio@127.0.0.1:5432/studio"
    assert _pool_setting(DATABASE_URL=postgres).stdout.strip() == "None False", "off unless the web entry sets it"
    on = _pool_setting(DATABASE_URL=postgres, STUDIO_DB_POOL_SIZE="6").stdout.strip()
    assert on == "{'min_size': 2, 'max_size': 6, 'timeout': 10} True", "checked as they leave the pool"
    assert _pool_setting(STUDIO_DB_POOL_SIZE="6").stdout.strip() == "None False", "SQLite has no pool"
    both = _pool_setting(DATABASE_URL=postgres, STUDIO_DB_POOL_SIZE="6", DATABASE_CONN_MAX_AGE="60")
    assert both.returncode != 0 and "STUDIO_DB_POOL_SIZE and DATABASE_CONN_MAX_AGE exclude each other" in both.stderr
    bad = _pool_setting(DATABASE_URL=postgres, STUDIO_DB_POOL_SIZE="many")
    assert "STUDIO_DB_POOL_SIZE must be a whole number" in bad.stderr
