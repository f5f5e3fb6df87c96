"""The web's PostgreSQL connection pool (STUDIO_DB_POOL_SIZE), A/B: two uvicorn servers on the same
database, one without the pool and one with it, answer the same MLflow `runs/get` (a run holding
1,000 metric points) and the same REST job list, in alternation, so both see the same machine
load. Prints the median and p90 of each.

    DATABASE_URL=postgres://…/empty_db .venv/bin/python bench/db_pool.py [--calls 300]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "STUDIO_DATA_DIR": tempfile.mkdtemp(prefix="studio-bench-pool-"),
        "STUDIO_SECRET_KEY": "bench-pool-secret-key-not-for-production-0123456789abcdef",
        "STUDIO_SECURE_SSL": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "STUDIO_MANIFEST_STATIC": "false",
    }
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(pool: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {"STUDIO_DB_POOL_SIZE": str(pool)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "studio.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        + ["--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/login/", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to an empty PostgreSQL database: the pool is PostgreSQL's")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from studio.services import do_create_token, do_create_workspace

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    do_create_workspace(name="bench", actor=user)
    _, token = do_create_token(user=user, name="bench")
    auth = {"Authorization": f"Bearer {token}"}

    servers = {"no pool": serve(0), "pool 10": serve(10)}
    try:
        for _, url in servers.values():
            wait_up(url)
        first = next(iter(servers.values()))[1] + "/mlflow/api/2.0/mlflow"
        experiment = requests.post(first + "/experiments/create", json={"name": "pool"}, headers=auth).json()
        run = requests.post(
            first + "/runs/create", json={"experiment_id": experiment["experiment_id"]}, headers=auth
        ).json()["run"]["info"]["run_id"]
        now = int(time.time() * 1000)
        metrics = [{"key": "loss", "value": 1.0 / (i + 1), "timestamp": now, "step": i} for i in range(1000)]
        requests.post(
            first + "/runs/log-batch", json={"run_id": run, "metrics": metrics}, headers=auth
        ).raise_for_status()
        calls = {
            "runs/get": lambda url: requests.get(
                f"{url}/mlflow/api/2.0/mlflow/runs/get", params={"run_id": run}, headers=auth
            ),
            "jobs list": lambda url: requests.get(f"{url}/api/v1/workspaces/bench/jobs/", headers=auth),
        }
        for what, call in calls.items():
            times: dict[str, list[float]] = {name: [] for name in servers}
            for i in range(args.calls + 10):
                for name, (_, url) in servers.items():
                    start = time.perf_counter()
                    answer = call(url)
                    elapsed = (time.perf_counter() - start) * 1000
                    assert answer.status_code == 200, answer.text
                    if i >= 10:  # warm-up
                        times[name].append(elapsed)
            for name, ms in times.items():
                ms.sort()
                print(
                    f"{what:10} {name:8} median {statistics.median(ms):6.2f} ms   p90 {ms[int(len(ms) * 0.9)]:6.2f} ms"
                )
    finally:
        for process, _ in servers.values():
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


if __name__ == "__main__":
    main()
