"""A Python with the full `mlflow` 3 package (scikit-learn, matplotlib, pandas and `mlflow server`),
built once per machine in a cache folder: it plays the user's laptop or job script, and the real
MLflow server Studio is compared with."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require
from tests.jobs.conftest import docker_target, node  # noqa: F401 - fixtures for real jobs here too

MLFLOW_VERSION = "3.17.2"


def _uv() -> str | None:
    local = Path(sys.executable).parent / "uv"
    return str(local) if local.exists() else shutil.which("uv")


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    cache = Path(os.environ.get("STUDIO_TEST_CACHE", Path.home() / ".cache" / "studio-tests"))
    venv = cache / f"mlflow-{MLFLOW_VERSION}"
    python = venv / "bin" / "python"
    marker = venv / ".complete"
    if not marker.exists():
        uv = _uv()
        require(uv is not None, "uv (to build the mlflow client venv)")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([uv, "venv", "-q", "--python", "3.11", str(venv)], check=True, timeout=300)
        done = subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(python), f"mlflow=={MLFLOW_VERSION}"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        require(done.returncode == 0, f"mlflow {MLFLOW_VERSION} from PyPI ({done.stderr[-300:]})")
        marker.touch()
    return str(python)


def run_client(python: str, code: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run(
        [python, "-c", code],
        env=clean | {"PYTHONUNBUFFERED": "1", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"} | env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
