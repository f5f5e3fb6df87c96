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
def mlflow_env(live_server, settings, workspace, owner, tmp_path):
    settings.STUDIO_PUBLIC_URL = live_server.url
    settings.STUDIO_SWEEPS_JOURNAL = tmp_path / "optuna.journal"
    from sweeps import engine

    engine.storage.cache_clear()
    make_environment(workspace, owner, "with-mlflow", user_managed_dependencies=True, interpreter_path=sys.executable)
    yield "with-mlflow:1"
    engine.storage.cache_clear()


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
