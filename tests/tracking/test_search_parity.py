"""search_runs answers as a real `mlflow server` does: the same client script creates the same
runs on both, then compares what each returns for metric, param, tag and attribute filters,
orderings and pages."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
import time
import urllib.request

import pytest

from tests.tracking.conftest import run_client

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import mlflow
    mlflow.set_experiment("parity")
    rows = [
        ("run-1", {"lr": "0.1", "opt": "adam"}, {"acc": 0.91, "loss": 0.2}, {"team": "alpha"}, "FINISHED"),
        ("run-2", {"lr": "0.01"}, {"acc": 0.45}, {"team": "beta"}, "FAILED"),
        ("run-3", {"lr": "0.1", "opt": "sgd"}, {"acc": 0.72, "loss": 0.5}, {}, "FINISHED"),
        ("RUN-10", {"lr": "1.0"}, {}, {"team": "alpha-2"}, "KILLED"),
        ("run-5", {"lr": "0.001", "opt": "adam"}, {"acc": 0.72, "loss": float("nan")}, {"team": "gamma"}, "FINISHED"),
        ("other", {}, {"acc": 0.05}, {"team": "Alpha"}, "FAILED"),
    ]
    for name, params, metrics, tags, status in rows:
        with mlflow.start_run(run_name=name):
            mlflow.log_params(params)
            for key, value in metrics.items():
                mlflow.log_metric(key, 0.0, step=0)
                mlflow.log_metric(key, value, step=1)
            mlflow.set_tags(tags)
            time.sleep(0.02)
        mlflow.MlflowClient().set_terminated(mlflow.last_active_run().info.run_id, status)
        time.sleep(0.02)
    queries = json.loads(sys.argv[1])
    out = []
    for filter_string, order_by in queries:
        runs = mlflow.search_runs(filter_string=filter_string, order_by=order_by or None, output_format="list")
        out.append([r.info.run_name for r in runs])
    client = mlflow.MlflowClient()
    experiment = mlflow.get_experiment_by_name("parity").experiment_id
    pages, token = [], None
    while True:
        page = client.search_runs([experiment], max_results=4, page_token=token, order_by=["metrics.acc DESC"])
        pages.append([r.info.run_name for r in page])
        token = page.token
        if not token:
            break
    out.append(pages)
    try:
        mlflow.search_runs(filter_string="metrics.acc >>> 1")
    except Exception as exc:
        out.append([type(exc).__name__, getattr(exc, "error_code", "")])
    print("RESULT " + json.dumps(out))
    """
)

QUERIES = [
    ("", []),
    ("metrics.acc > 0.5", []),
    ("metrics.acc = 0.72", ["attributes.run_name ASC"]),
    ("metrics.loss != 0.2", []),
    ("params.lr = '0.1'", []),
    ("params.lr != '0.1'", []),
    ("params.opt IS NULL", []),
    ("params.opt IS NOT NULL and metrics.acc >= 0.7", []),
    ("tags.team LIKE 'alpha%'", []),
    ("tags.team ILIKE 'alpha%'", []),
    ("attributes.status = 'FAILED'", []),
    ("attributes.status != 'FINISHED'", []),
    ("attributes.run_name ILIKE 'run-1%'", []),
    ("attributes.run_name != 'other'", []),
    ("", ["metrics.acc DESC"]),
    ("", ["metrics.acc ASC"]),
    ("", ["params.lr ASC", "metrics.acc DESC"]),
    ("", ["tags.team DESC"]),
    ("", ["attributes.run_name ASC"]),
    ("", ["start_time ASC"]),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(mlflow_python, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    process = subprocess.Popen(
        [
            mlflow_python,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{folder}/mlflow.db",
            "--artifacts-destination",
            str(folder / "art"),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its workers are stopped with it, as a group
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # a loaded CI machine takes minutes to start it
            if process.poll() is not None:
                pytest.fail(f"mlflow server exited with {process.returncode}")
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not start")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _results(python: str, env: dict[str, str]) -> list:
    result = run_client(python, SCRIPT.replace("sys.argv[1]", repr(json.dumps(QUERIES))), env)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.split("RESULT ", 1)[1])


def test_search_runs_matches_a_real_mlflow_server(
    live_server, mlflow_python, mlflow_server, workspace, owner, transactional_db
):
    from studio import services

    _, raw = services.do_create_token(user=owner, name="laptop")
    started = time.monotonic()
    studio = _results(mlflow_python, {"MLFLOW_TRACKING_URI": live_server.url + "/mlflow", "MLFLOW_TRACKING_TOKEN": raw})
    print(f"Studio: {time.monotonic() - started:.1f}s")
    started = time.monotonic()
    reference = _results(mlflow_python, {"MLFLOW_TRACKING_URI": mlflow_server})
    print(f"MLflow: {time.monotonic() - started:.1f}s")
    for query, ours, theirs in zip([*QUERIES, "pages", "bad filter"], studio, reference, strict=True):
        assert ours == theirs, f"{query}: Studio {ours} vs MLflow {theirs}"
