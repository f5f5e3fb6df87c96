"""MLflow tracking figures: Studio and a real `mlflow server`, side by side, same client workload.

    .venv/bin/python bench/tracking.py [--runs 10000] [--singles 1000] [--points 100000] [--mb 100]
                                       [--mlflow-python PATH] [--postgres URL] [--studio-only]

Studio runs as in production (uvicorn, ASGI) on a throw-away data folder (SQLite unless
DATABASE_URL is set); MLflow runs `mlflow server` with a SQLite backend (and, with --postgres,
a second one on that PostgreSQL database, given as postgresql+psycopg://; give Studio an empty
PostgreSQL DATABASE_URL to compare like with like; both PostgreSQL databases are analyzed after
seeding, as autovacuum would). --studio-only skips the MLflow servers, for before/after runs. The
client is the real `mlflow` 3 package in a cached venv (built with uv when missing). Rows:

  1. single log_metric calls/s (one HTTP call each)
  2. log_batch points/s (batches of 1000)
  3. runs/get on a run holding --points metric points (ms, median of 5)
  4. get_metric_history of --points points (ms, median of 3)
  5. search_runs with a metric + param filter over --runs runs, 100 results (ms, median of 5)
  6. artifact upload / download of --mb MB (MB/s)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="studio-bench-tracking-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "STUDIO_DATA_DIR": str(DATA / "studio"),
        "STUDIO_SECRET_KEY": "bench-tracking-secret-key-not-for-production-0123456789",
        "STUDIO_SECURE_SSL": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "STUDIO_MANIFEST_STATIC": "false",
    }
)
MLFLOW_VERSION = "3.17.2"

WORKLOAD = r"""
import json, os, sys, tempfile, time
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

args = json.loads(sys.argv[1])
client = MlflowClient()
out = {}
exp = mlflow.set_experiment("bench-" + args["tag"]).experiment_id

run = client.create_run(exp, run_name="singles").info.run_id
start = time.perf_counter()
for i in range(args["singles"]):
    client.log_metric(run, "single", i * 0.5, step=i)
out["single log_metric calls/s"] = args["singles"] / (time.perf_counter() - start)

run = client.create_run(exp, run_name="history").info.run_id
now = int(time.time() * 1000)
start = time.perf_counter()
for first in range(0, args["points"], 1000):
    client.log_batch(run, metrics=[Metric("loss", 1.0 / (i + 1), now, i) for i in range(first, first + 1000)])
out["log_batch points/s"] = args["points"] / (time.perf_counter() - start)
def median_ms(call, times=5):
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        result = call()
        spent.append((time.perf_counter() - start) * 1000)
    return sorted(spent)[len(spent) // 2], result

out[f"runs/get, {args['points']} points (ms)"], _ = median_ms(lambda: client.get_run(run))
out[f"history read, {args['points']} points (ms)"], history = median_ms(
    lambda: client.get_metric_history(run, "loss"), 3)
assert len(history) == args["points"], len(history)

seeded = 0
while seeded < args["runs"]:
    r = client.create_run(exp, run_name=f"r{seeded}").info.run_id
    client.log_batch(r, metrics=[Metric("acc", (seeded % 100) / 100, now, 0)],
                     params=[Param("depth", str(seeded % 10))])
    seeded += 1
if args["analyze"]:
    # A server that has been up a while has planner statistics (autovacuum); a database seeded a
    # second ago has none, and PostgreSQL then plans the search as if every table were empty.
    import subprocess
    subprocess.run(["psql", args["analyze"], "-qc", "ANALYZE"], check=True)
out[f"search_runs over {args['runs']} runs, filter (ms)"], _ = median_ms(
    lambda: client.search_runs([exp], "metrics.acc > 0.5 and params.depth = '3'", max_results=100,
                               order_by=["metrics.acc DESC"]))

big = os.path.join(tempfile.mkdtemp(), "big.bin")
with open(big, "wb") as f:
    for _ in range(args["mb"]):
        f.write(os.urandom(1 << 20))
run = client.create_run(exp, run_name="artifacts").info.run_id
start = time.perf_counter()
client.log_artifact(run, big, "data")
out["artifact upload MB/s"] = args["mb"] / (time.perf_counter() - start)
start = time.perf_counter()
client.download_artifacts(run, "data/big.bin", tempfile.mkdtemp())
out["artifact download MB/s"] = args["mb"] / (time.perf_counter() - start)
print("RESULT " + json.dumps(out))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: int = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # answering, if only with 401/404
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer")


def mlflow_python(given: str | None) -> str:
    if given:
        return given
    venv = (
        Path(os.environ.get("STUDIO_TEST_CACHE", Path.home() / ".cache" / "studio-tests")) / f"mlflow-{MLFLOW_VERSION}"
    )
    if not (venv / ".complete").exists():
        uv = str(Path(sys.executable).parent / "uv") if (Path(sys.executable).parent / "uv").exists() else "uv"
        subprocess.run([uv, "venv", "-q", "--python", "3.11", str(venv)], check=True)
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(venv / "bin/python"), f"mlflow=={MLFLOW_VERSION}"], check=True
        )
        (venv / ".complete").touch()
    return str(venv / "bin" / "python")


class Servers:
    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def spawn(self, cmd: list[str], name: str, env: dict | None = None) -> None:
        log = open(DATA / f"{name}.log", "w")  # noqa: SIM115 - kept open for the process's life
        self.procs.append(
            subprocess.Popen(
                cmd,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def studio(servers: Servers) -> tuple[str, str]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from studio.services import do_create_token, do_create_workspace

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    do_create_workspace(name="bench", actor=user)
    _, token = do_create_token(user=user, name="bench")
    port = free_port()
    servers.spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "studio.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        "studio",
    )
    url = f"http://127.0.0.1:{port}/mlflow"
    wait_http(url + "/api/3.0/mlflow/server-info")
    return url, token


def with_postgres_driver(python: str) -> None:
    """`mlflow server` reaches PostgreSQL through SQLAlchemy's psycopg (3) dialect, whose driver the
    mlflow package does not bring."""
    if subprocess.run([python, "-c", "import psycopg"], capture_output=True).returncode == 0:
        return
    uv = str(Path(sys.executable).parent / "uv") if (Path(sys.executable).parent / "uv").exists() else "uv"
    subprocess.run([uv, "pip", "install", "-q", "--python", python, "psycopg[binary]==3.2.*"], check=True)


def mlflow_server(servers: Servers, python: str, backend: str, name: str) -> str:
    port = free_port()
    servers.spawn(
        [
            python,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--backend-store-uri",
            backend,
            "--artifacts-destination",
            str(DATA / f"{name}-artifacts"),
        ],
        name,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/health", 300)
    return url


def workload(python: str, url: str, token: str | None, args, tag: str, analyze: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"MLFLOW_TRACKING_URI": url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_DISABLE_TELEMETRY": "true"}
    if token:
        env["MLFLOW_TRACKING_TOKEN"] = token
    params = {"singles": args.singles, "points": args.points, "runs": args.runs, "mb": args.mb}
    params |= {"tag": tag, "analyze": analyze}
    done = subprocess.run([python, "-c", WORKLOAD, json.dumps(params)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"workload against {url} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.split("RESULT ", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--singles", type=int, default=1000)
    parser.add_argument("--points", type=int, default=100000)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--mlflow-python")
    parser.add_argument("--postgres", help="also run mlflow server on this PostgreSQL URL")
    parser.add_argument("--studio-only", action="store_true", help="skip the mlflow servers (before/after runs)")
    args = parser.parse_args()
    python = mlflow_python(args.mlflow_python)
    servers = Servers()
    columns: dict[str, dict] = {}
    try:
        url, token = studio(servers)
        studio_db = os.environ.get("DATABASE_URL", "")
        analyze = studio_db if studio_db.startswith("postgres") else ""
        columns["Studio"] = workload(python, url, token, args, "studio", analyze)
        if not args.studio_only:
            mlflow_columns(servers, python, args, columns)
    finally:
        servers.stop()
    report(columns)
    shutil.rmtree(DATA, ignore_errors=True)


def mlflow_columns(servers: Servers, python: str, args, columns: dict) -> None:
    url = mlflow_server(servers, python, f"sqlite:///{DATA}/mlflow.db", "mlflow-sqlite")
    columns["MLflow (SQLite)"] = workload(python, url, None, args, "sqlite")
    if args.postgres:
        with_postgres_driver(python)
        url = mlflow_server(servers, python, args.postgres, "mlflow-postgres")
        # psql cannot read SQLAlchemy's driver suffix (postgresql+psycopg://).
        plain = re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", args.postgres)
        columns["MLflow (PostgreSQL)"] = workload(python, url, None, args, "pg", plain)


def report(columns: dict[str, dict]) -> None:
    rows = list(columns["Studio"])
    names = list(columns)
    print(f"\n{'':48}" + "".join(f"{n:>22}" for n in names))
    slower = []
    for row in rows:
        values = [columns[n][row] for n in names]
        print(f"{row:48}" + "".join(f"{v:>22,.1f}" for v in values))
        if len(values) == 1:
            continue
        higher_is_better = "/s" in row
        best_other = max(values[1:]) if higher_is_better else min(values[1:])
        if (values[0] < best_other) if higher_is_better else (values[0] > best_other):
            slower.append(row)
    if len(names) > 1:
        print("\nStudio is slower on: " + (", ".join(slower) if slower else "nothing"))


if __name__ == "__main__":
    main()
