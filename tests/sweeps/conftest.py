"""Sweeps run on the real runner (tests/jobs/conftest.py `node`), with trials logging through the
real MLflow client against a live server, and the periodic check (Celery beat in production)
ticking in a thread."""

from __future__ import annotations

import sys
import threading

import pytest
from django.db import connection

from tests.jobs.conftest import _clean_job_dirs, make_environment, no_dispatch, node, plain_env  # noqa: F401 - fixtures


@pytest.fixture
def mlflow_env(live_server, settings, workspace, owner):
    settings.STUDIO_PUBLIC_URL = live_server.url
    from sweeps import engine

    engine.forget()
    make_environment(workspace, owner, "with-mlflow", user_managed_dependencies=True, interpreter_path=sys.executable)
    yield "with-mlflow:1"
    engine.forget()


@pytest.fixture
def beat():
    """Runs the periodic sweep check every 0.3 s, as Celery beat does every few seconds."""
    from sweeps.services import check_sweeps

    stop = threading.Event()

    def tick():
        try:
            while not stop.wait(0.3):
                check_sweeps()
        finally:
            connection.close()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


# A trial that logs through MLflow's REST API with the standard library (what `mlflow.log_metric`
# sends, retried while the server restarts): it starts in milliseconds where importing mlflow
# takes seconds, for the tests that run many trials. test_real_sweeps.py uses the real client.
LIGHT_TRIAL = """
import json, os, sys, time, urllib.error, urllib.request


def log_metric(key, value, step):
    body = {"run_id": os.environ["MLFLOW_RUN_ID"], "key": key, "value": value, "step": step,
            "timestamp": int(time.time() * 1000)}
    request = urllib.request.Request(
        os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/log-metric", json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]})
    for _ in range(120):
        try:
            return urllib.request.urlopen(request, timeout=10).read()
        except urllib.error.HTTPError:
            raise
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the tracking server did not answer")


x, y = float(sys.argv[1]), float(sys.argv[2])
steps, pause = int(sys.argv[3]), float(sys.argv[4])
for step in range(steps):
    log_metric("score", (x + 10 * y) * (step + 1) / steps, step)
    time.sleep(pause)
os.makedirs("outputs/model", exist_ok=True)
with open("outputs/model/weights.txt", "w") as f:
    f.write(f"x={x} y={y}")
"""
