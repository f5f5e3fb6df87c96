"""Endpoint fixtures: a venv environment with Azure's inference server and scikit-learn, a real
scikit-learn model trained in it and registered, and a scoring script uploaded as code."""

from __future__ import annotations

import subprocess

import pytest

from tests.cli.conftest import alice, alice_workspace, cli, studio  # noqa: F401 - fixtures
from tests.compute.conftest import worker_env, workers  # noqa: F401 - fixtures
from tests.conftest import require
from tests.jobs.conftest import (  # noqa: F401 - fixtures
    _clean_job_dirs,
    docker_target,
    make_environment,
    make_zip,
    no_dispatch,
    node,
)

CONDA = """dependencies:
  - python=3.11
  - pip:
    - azureml-inference-server-http==1.5.1
    - scikit-learn==1.9.1
"""

SCORE = """
import json, os, pickle

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)

def run(raw_data):
    data = json.loads(raw_data)["data"]
    return {"predictions": model.predict(data).tolist(), "who": os.environ.get("WHO", "")}
"""

TRAIN = """
import pickle, sys
from sklearn.linear_model import LinearRegression
model = LinearRegression().fit([[0], [1], [2]], [0, 2, 4])
with open(sys.argv[1], "wb") as f:
    pickle.dump(model, f)
"""


@pytest.fixture
def serve_env(transactional_db, workspace, owner):
    from compute.backends import get_backend
    from environments.builds import ensure_built

    ok, why = get_backend("venv").available()
    require(ok, f"venv backend: {why}")
    version = make_environment(workspace, owner, "sklearn-serve", conda_file=CONDA)
    build = ensure_built(version, "venv", workspace=workspace, actor=owner)
    return version, build.python


@pytest.fixture
def sklearn_model(workspace, owner, serve_env, tmp_path):
    from registry import services

    _, python = serve_env
    subprocess.run([python, "-c", TRAIN, str(tmp_path / "model.pkl")], check=True, timeout=120)
    sink = services.upload_sink_for(workspace)
    writer = sink.open("model.pkl")
    writer.write((tmp_path / "model.pkl").read_bytes())
    sink.finish()
    return services.do_create_model_version_from_upload(workspace, sink, actor=owner, name="doubler")


@pytest.fixture
def score_code(workspace, owner):
    from jobs.code import snapshot_from_zip

    return snapshot_from_zip(workspace, make_zip({"score.py": SCORE}), actor=owner)


@pytest.fixture(autouse=True)
def _fresh_router_state():
    """The router's per-process caches and counters start empty in every test."""
    from endpoints import metrics, mirror, routes

    routes.forget_all()
    routes._bad_ports.clear()
    metrics._pending.clear()
    mirror._pending.clear()
    yield
    routes.forget_all()


@pytest.fixture
def asgi_server(transactional_db):
    """Studio's ASGI application (the router mounted before Django) under a real uvicorn, in a
    thread of the test process: same database, real HTTP."""
    import threading
    import time

    import uvicorn

    from endpoints.instances import free_port
    from studio.asgi import application

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)


@pytest.fixture
def blue_green(workspace, owner, serve_env, sklearn_model, score_code):
    """An endpoint with two real deployments of the sklearn model, `blue` and `green` (their
    answers say which), both ready; stopped afterwards."""
    from endpoints import instances, keys, services
    from tests.endpoints.helpers import wait_ready

    env_version, _ = serve_env
    endpoint = services.do_create_endpoint(workspace, {"name": "doubler-ep"}, actor=owner)
    common = {
        "model": "azureml:doubler:1",
        "environment": f"azureml:{env_version.environment.name}:{env_version.version}",
        "code_configuration": {"code": score_code.pk, "scoring_script": "score.py"},
    }
    for name in ("blue", "green"):
        services.do_create_deployment(
            endpoint, {"name": name, **common, "environment_variables": {"WHO": name}}, actor=owner
        )
    try:
        wait_ready(["blue", "green"])
        yield endpoint, keys.read(endpoint)["primary"]
    finally:
        instances.stop_all()


@pytest.fixture
def light(workspace, owner, score_code):
    """What a deployment row needs, without building anything: a model file, code, an environment."""
    from registry import services as registry

    sink = registry.upload_sink_for(workspace)
    sink.open("model.pkl").write(b"not used")
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="doubler")
    make_environment(workspace, owner, "plain")
    return {
        "model": "azureml:doubler:1",
        "environment": "azureml:plain:1",
        "code_configuration": {"code": score_code.pk, "scoring_script": "score.py"},
    }


DRIVER = """
import csv, os

factor = None

def init():
    global factor
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "factor.txt")) as f:
        factor = float(f.read())

def run(mini_batch):
    flaky = os.environ.get("FAIL_ONCE", "")
    if flaky and os.environ["STUDIO_BATCH_ATTEMPT"] == "1" and any(p.endswith(flaky) for p in mini_batch):
        raise RuntimeError("the storage hiccuped")
    rows = []
    for path in mini_batch:
        with open(path) as f:
            for record in csv.DictReader(f):
                rows.append({"file": os.path.basename(path), "x": record["x"], "y": float(record["x"]) * factor})
    return rows
"""


def scorer_parts(workspace, owner, driver: str = DRIVER) -> dict:
    """A batch driver's pieces: a custom model (a factor of 2), the driver uploaded as code and a
    plain environment; returns the common part of a deployment body."""
    from jobs.code import snapshot_from_zip
    from registry import services as registry

    sink = registry.upload_sink_for(workspace)
    sink.open("factor.txt").write(b"2")
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="doubler")
    make_environment(workspace, owner, "plain")
    code = snapshot_from_zip(workspace, make_zip({"score.py": driver}), actor=owner)
    return {
        "model": "azureml:doubler:1",
        "code_configuration": {"code": code.hash, "scoring_script": "score.py"},
        "environment": "azureml:plain:1",
        "compute": "azureml:local",
    }
