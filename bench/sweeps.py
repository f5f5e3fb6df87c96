"""Sweep figures.

    .venv/bin/python bench/sweeps.py [--trials 50] [--seeds 5] [--budget 150] [--only overhead|search]

1. Scheduling overhead, on the real path (HTTP API -> Celery on CELERY_BROKER_URL, default
   redis://127.0.0.1:6379/6 -> a `manage.py studio_worker` node for `local` with 2 slots -> the
   runner; uvicorn as the web server and tracking endpoint): --trials trivial jobs submitted
   directly (all at once) against a sweep of --trials trivial trials with max_concurrent_trials 2
   (the node's slots), both timed from the first submission to the last job's end. Every job runs
   the same command (log one metric value through MLflow's REST API). Prints both wall times, the
   overhead per trial and the ratio, for a random sweep (target: ratio <= 1.1x; it keeps its next
   trial ready) and a bayesian one (which asks each trial when a slot frees).
2. Trials-to-target on Hartmann-6 (6-D, minimum -3.32237), bayesian (TPE) against random, driven
   through the engine as the service drives it (a sampler made afresh for each ask, seeded from
   the sweep's seed and the trials asked so far): the trials each needs to reach f <= --target,
   median over --seeds seeds (runs that never reach it count as the budget).

It uses a throw-away data folder (its own SQLite database unless DATABASE_URL is set).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="studio-bench-sweeps-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "STUDIO_DATA_DIR": str(DATA),
        "STUDIO_SECRET_KEY": "bench-sweeps-secret-key-not-for-production-0123456789abcdef",
        "STUDIO_SECURE_SSL": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LOG_LEVEL": "WARNING",
        "STUDIO_MANIFEST_STATIC": "false",
    }
)
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")
os.environ.setdefault("STUDIO_BASE_IMAGE", "studio/base:bookworm")

# The interpreter by its full path: a user-managed environment puts nothing on the PATH.
PY = os.path.realpath(sys.executable)  # the trial needs only the standard library
TRIAL = """
import json, os, sys, time, urllib.request
body = {"run_id": os.environ["MLFLOW_RUN_ID"], "key": "score", "value": float(sys.argv[1]), "step": 0,
        "timestamp": int(time.time() * 1000)}
request = urllib.request.Request(
    os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/log-metric", json.dumps(body).encode(),
    {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]})
urllib.request.urlopen(request, timeout=30).read()
"""

# Hartmann-6: the standard constants (Surjanovic & Bingham's library of test functions).
ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def hartmann6(x: list[float]) -> float:
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))) for i in range(4))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout} s waiting for {what}")


class Overhead:
    def __init__(self, args):
        import requests

        self.args = args
        self.procs: list[subprocess.Popen] = []
        self.http = requests.Session()

    def spawn(self, cmd: list[str], name: str, env: dict) -> None:
        log = open(DATA / f"{name}.log", "w")  # noqa: SIM115 - kept open for the process's life
        self.procs.append(
            subprocess.Popen(
                cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **env}
            )
        )

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def setup(self) -> None:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from environments import services as env_services
        from environments import spec as env_spec
        from studio.celery import app
        from studio.services import do_create_token, do_create_workspace

        call_command("migrate", verbosity=0, interactive=False)
        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(f"database: {db}   broker: {settings.CELERY_BROKER_URL.split('@')[-1]}   data: {DATA}")
        user = get_user_model().objects.create_user("bench", password="bench-password-123")
        self.workspace = do_create_workspace(name=f"bench-{os.getpid()}", actor=user)
        _, token = do_create_token(user=user, name="bench")
        self.http.headers["Authorization"] = f"Bearer {token}"
        env_services.do_create_environment_version(
            self.workspace,
            actor=user,
            definition=env_spec.parse(
                {
                    "name": "bench-py",
                    "image": settings.STUDIO_BASE_IMAGE,
                    "user_managed_dependencies": True,
                    "interpreter_path": PY,
                }
            ),
        )
        with app.connection_for_write() as conn:
            for queue in ("local", "studio"):
                try:
                    conn.default_channel.queue_purge(queue)
                except Exception:  # a queue never declared has nothing to purge
                    pass
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        common = {"STUDIO_PUBLIC_URL": self.base}
        uvicorn = [sys.executable, "-m", "uvicorn", "studio.asgi:application", "--host", "127.0.0.1"]
        self.spawn([*uvicorn, "--port", str(port), "--no-access-log", "--log-level", "warning"], "web", common)
        self.spawn([sys.executable, "manage.py", "studio_worker", "--compute", "local", "-c", "2"], "node", common)
        _wait(self._up, 90, "the web server")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("trial.py", TRIAL)
        answer = self.http.post(self.api("codes/"), files={"file": ("code.zip", buf.getvalue())})
        answer.raise_for_status()
        self.code = answer.json()["id"]

    def _up(self) -> bool:
        try:
            return self.http.get(self.base + "/login/", timeout=2).status_code == 200
        except Exception:
            return False

    def api(self, path: str) -> str:
        return f"{self.base}/api/v1/workspaces/{self.workspace.name}/{path}"

    def post(self, body: dict) -> str:
        if body.get("type") == "sweep":
            body["trial"] |= {"environment": "bench-py:1", "code": self.code}
        else:
            body = {"environment": "bench-py:1", "code": self.code, **body}
        answer = self.http.post(self.api("jobs/"), json=body)
        if answer.status_code != 201:
            raise SystemExit(f"submission refused: {answer.text}")
        return answer.json()["name"]

    def ended(self, names: list[str]) -> float:
        """When the last of these jobs ended, as a time.time() value; all must have completed."""
        from jobs.models import Job, JobStatus

        def done():
            rows = list(Job.objects.filter(workspace=self.workspace, name__in=names).values("status", "ended_at"))
            return len(rows) == len(names) and all(r["ended_at"] for r in rows) and rows

        rows = _wait(done, 1800, f"{len(names)} jobs to end")
        failed = [r for r in rows if r["status"] != JobStatus.COMPLETED]
        if failed:
            raise SystemExit(f"{len(failed)} job(s) did not complete: see {DATA}")
        return max(r["ended_at"] for r in rows).timestamp()

    def run(self) -> None:
        n = self.args.trials
        warm = self.post({"command": f"{PY} trial.py 1", "compute": "local"})
        self.ended([warm])
        started = time.time()
        names = [self.post({"command": f"{PY} trial.py {i}", "compute": "local"}) for i in range(n)]
        direct = self.ended(names) - started
        from jobs.models import Job

        print(f"1. {n} trivial jobs on a 2-slot node: submitted directly {direct:.1f} s")
        print("   direct   median ms: " + spans(Job.objects.filter(name__in=names, workspace=self.workspace)))
        for algorithm in ("random", "bayesian"):
            self.sweep(algorithm, direct)

    def sweep(self, algorithm: str, direct: float) -> None:
        from jobs.models import Job

        n = self.args.trials
        started = time.time()
        sweep = self.post(
            {
                "type": "sweep",
                "compute": "local",
                "trial": {"command": PY + " trial.py ${{search_space.x}}"},
                "search_space": {"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
                "objective": {"primary_metric": "score", "goal": "maximize"},
                "sampling_algorithm": {"type": algorithm, **({"seed": 1} if algorithm == "random" else {})},
                "limits": {"max_total_trials": n, "max_concurrent_trials": 2},
            }
        )
        _wait(lambda: Job.objects.filter(parent__name=sweep).count() == n, 1800, "every trial to be started")
        trials = list(Job.objects.filter(parent__name=sweep).values_list("name", flat=True))
        swept = self.ended(trials) - started
        parent = _wait(lambda: (j := Job.objects.get(name=sweep)).is_final and j, 120, "the sweep to end")
        print(
            f"   as a {algorithm} sweep {swept:.1f} s: overhead {(swept - direct) / n * 1000:.0f} ms per trial, "
            f"ratio {swept / direct:.2f}x"
            + (" (target <= 1.1x)" if algorithm == "random" else "")
            + f"; {parent.status}"
        )
        print(f"   {algorithm:8} median ms: " + spans(Job.objects.filter(name__in=trials, workspace=self.workspace)))


def spans(jobs) -> str:
    """Where a job's time goes, median over `jobs`: the wait from the previous job's end to its
    being queued (a sweep's advance; a trial made ready ahead is queued when a slot frees), from
    queued to a node picking it up, preparing (environment, staging), running, finalizing."""
    rows = sorted(
        jobs.values("queued_at", "started_at", "running_at", "finalizing_at", "ended_at"),
        key=lambda r: r["queued_at"],
    )
    ends = sorted(r["ended_at"] for r in rows)
    gaps = []
    for row in rows:
        before = [e for e in ends if e <= row["queued_at"]]
        if before:
            gaps.append((row["queued_at"] - before[-1]).total_seconds())
    parts = {
        "end->queued": gaps,
        "queue": [(r["started_at"] - r["queued_at"]).total_seconds() for r in rows],
        "prepare": [(r["running_at"] - r["started_at"]).total_seconds() for r in rows],
        "run": [(r["finalizing_at"] - r["running_at"]).total_seconds() for r in rows],
        "finalize": [(r["ended_at"] - r["finalizing_at"]).total_seconds() for r in rows],
    }
    return "  ".join(f"{k} {statistics.median(v) * 1000:.0f}" if v else f"{k} -" for k, v in parts.items())


def trials_to_target(algorithm: str, seed: int, budget: int, target: float) -> int:
    """Trials until Hartmann-6 <= target (budget when never), the engine driven as the service does."""
    import optuna

    from sweeps import engine
    from sweeps.spec import parse_sweep_spec

    spec = parse_sweep_spec(
        {
            "type": "sweep",
            "trial": {"command": "python t.py", "environment": "e:1"},
            "search_space": {f"x{i}": {"type": "uniform", "min_value": 0, "max_value": 1} for i in range(6)},
            "objective": {"primary_metric": "f", "goal": "minimize"},
            "sampling_algorithm": {"type": algorithm},
            "limits": {"max_total_trials": budget},
        }
    )
    spec.seed = seed
    study = optuna.create_study(direction="minimize")
    for asked in range(budget):
        study.sampler = engine._sampler(spec, asked)
        number, values = engine.ask(study, spec)
        value = hartmann6([values[f"x{i}"] for i in range(6)])
        engine.tell(study, number, value, "complete")
        if value <= target:
            return asked + 1
    return budget


def search(args) -> None:
    import django

    django.setup()
    figures = {}
    for algorithm in ("random", "bayesian"):
        started = time.perf_counter()
        runs = [trials_to_target(algorithm, seed, args.budget, args.target) for seed in range(args.seeds)]
        figures[algorithm] = statistics.median(runs)
        print(
            f"2. Hartmann-6 to f <= {args.target}: {algorithm:8} median {figures[algorithm]:.0f} trials "
            f"(runs {runs}; {args.budget} = not reached; {time.perf_counter() - started:.0f} s)"
        )
    print(f"   bayesian needs {figures['bayesian'] / figures['random']:.2f}x the trials of random")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--target", type=float, default=-2.8)
    parser.add_argument("--only", choices=["overhead", "search"], action="append")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    only = set(args.only or ["overhead", "search"])
    if "search" in only:
        search(args)
    if "overhead" in only:
        bench = Overhead(args)
        try:
            bench.setup()
            bench.run()
        finally:
            bench.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
