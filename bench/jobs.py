"""Jobs figures, measured on the real path: HTTP API -> Celery (Redis) -> a node -> the runner.

    .venv/bin/python bench/jobs.py [--jobs 50] [--lines 1000000] [--list-jobs 100000] [--skip-docker]

It makes a throw-away data folder (its own SQLite database unless DATABASE_URL is set), starts a
web server (uvicorn, ASGI, as in production) and real nodes (`manage.py studio_worker`) for the
built-in `local` target (venv backend) and a docker target, on the broker CELERY_BROKER_URL
(default redis://127.0.0.1:6379/6). It prints:

  1. submit -> first log line readable through the API, warm environment (median, p95 over --jobs
     jobs per backend), and a trivial job's run time (Running -> Finalizing), on venv with the
     sandbox, on venv without it (a second venv target whose node has no bubblewrap and
     STUDIO_ALLOW_UNSANDBOXED=true) and on docker, side by side; then the sandbox's own start-up
     cost (`echo hi` through the runner's launcher, with and without it). Targets: median < 0.5 s on venv,
     < 1 s on docker; the sandbox adds < 50 ms per job.
  2. log latency: a line printed -> readable through the API (?offset= cursor, polled every 20 ms)
     and through the browser's stream (SSE). Target: p95 < 250 ms.
  3. log throughput one job sustains without loss (lines/s), on venv and on docker. Target:
     > 100,000, and no line lost on either.
  4. the jobs-list page's server time with --list-jobs jobs in the workspace. Target: < 150 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="studio-bench-jobs-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "STUDIO_DATA_DIR": str(DATA),
        "STUDIO_SECRET_KEY": "bench-jobs-secret-key-not-for-production-0123456789abcdef",
        "STUDIO_SECURE_SSL": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LOG_LEVEL": "WARNING",
        "STUDIO_MANIFEST_STATIC": "false",
    }
)
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")
os.environ.setdefault("STUDIO_BASE_IMAGE", "studio/base:bookworm")

STAMPER = """
import sys, time
for i in range(int(sys.argv[1])):
    print(f"stamp {time.time():.6f}", flush=True)
    time.sleep(0.05)
"""
FLOOD = """
import sys
n = int(sys.argv[1])
block = 10000
for start in range(0, n, block):
    sys.stdout.write("".join(f"line {i}\\n" for i in range(start, min(n, start + block))))
sys.stdout.flush()
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float], unit: str = "ms", scale: float = 1000) -> str:
    return (
        f"median {statistics.median(values) * scale:.0f} {unit}, p95 {percentile(values, 95) * scale:.0f} {unit}"
        f"  (n={len(values)}, min {min(values) * scale:.0f}, max {max(values) * scale:.0f})"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, args):
        import requests

        self.args = args
        self.procs: list[subprocess.Popen] = []
        self.http = requests.Session()

    def spawn(self, cmd: list[str], name: str, env: dict | None = None) -> subprocess.Popen:
        log = open(DATA / f"{name}.log", "w")
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    # --- set-up ---------------------------------------------------------------------------------

    def setup(self) -> None:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from environments import services as env_services
        from environments import spec as env_spec
        from studio.services import do_create_token, do_create_workspace

        call_command("migrate", verbosity=0, interactive=False)
        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(f"database: {db}   broker: {settings.CELERY_BROKER_URL.split('@')[-1]}   data: {DATA}")
        self.user = get_user_model().objects.create_user("bench", password="bench-password-123")
        self.workspace = do_create_workspace(name=f"bench-{os.getpid()}", actor=self.user)
        _, self.token = do_create_token(user=self.user, name="bench")
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        env_services.do_create_environment_version(
            self.workspace,
            actor=self.user,
            definition=env_spec.parse({"name": "bench-env", "image": settings.STUDIO_BASE_IMAGE}),
        )
        self.docker = not self.args.skip_docker and _docker_ok(settings.STUDIO_BASE_IMAGE)
        if self.docker:
            from compute.models import ComputeTarget

            ComputeTarget.objects.create(
                workspace=self.workspace, name="dock", type="docker", backend="docker", cpu_cores=2, memory_mb=4096
            )
        from compute.models import ComputeTarget

        # The same venv backend on a node without the sandbox: what the sandbox costs, side by side.
        ComputeTarget.objects.create(
            workspace=self.workspace, name="bare", type="cluster", backend="venv", max_instances=2
        )
        with _purge_queues():
            pass
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        common = {"STUDIO_PUBLIC_URL": self.base}
        self.spawn(
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
            "web",
            common,
        )
        self.spawn(
            [sys.executable, "manage.py", "studio_worker", "--compute", "local", "-c", "2"], "node-local", common
        )
        if self.docker:
            self.spawn(
                [sys.executable, "manage.py", "studio_worker", "--compute", f"{self.workspace.name}/dock", "-c", "2"],
                "node-docker",
                common,
            )
        unsandboxed = common | {"STUDIO_BWRAP": "studio-bench-no-bwrap", "STUDIO_ALLOW_UNSANDBOXED": "true"}
        self.spawn(
            [sys.executable, "manage.py", "studio_worker", "--compute", f"{self.workspace.name}/bare", "-c", "2"],
            "node-bare",
            unsandboxed,
        )
        _wait(lambda: self._up(), 60, "the web server")
        time.sleep(3)  # let the nodes register and start consuming
        self.code_id = self.upload({"stamp.py": STAMPER, "flood.py": FLOOD})

    def _up(self) -> bool:
        try:
            return self.http.get(self.base + "/login/", timeout=1).status_code == 200
        except Exception:
            return False

    def api(self, path: str) -> str:
        return f"{self.base}/api/v1/workspaces/{self.workspace.name}/{path}"

    def upload(self, files: dict[str, str]) -> str:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        answer = self.http.post(self.api("codes/"), files={"file": ("code.zip", buf.getvalue())})
        answer.raise_for_status()
        return answer.json()["id"]

    def submit(self, command: str, compute: str = "local", code: bool = False) -> str:
        body = {"command": command, "environment": "bench-env:1", "compute": compute, "experiment_name": "bench"}
        if code:
            body["code"] = self.code_id
        answer = self.http.post(self.api("jobs/"), json=body)
        answer.raise_for_status()
        return answer.json()["name"]

    def status(self, name: str) -> dict:
        return self.http.get(self.api(f"jobs/{name}/")).json()

    def wait_final(self, name: str, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.status(name)
            if job["status"] in ("Completed", "Failed", "Canceled"):
                return job
            time.sleep(0.2)
        raise SystemExit(f"job {name} did not finish in {timeout} s")

    # --- 1. submit -> first line ------------------------------------------------------------------

    def first_line(self, compute: str, label: str) -> None:
        from jobs.models import Job

        warm = self.wait_final(self.submit("echo warm", compute), timeout=900)
        if warm["status"] != "Completed":
            raise SystemExit(f"warm-up job on {label} failed: {warm['failure_reason']}")
        latencies, durations = [], []
        for _ in range(self.args.jobs):
            started = time.perf_counter()
            name = self.submit("echo first line", compute)
            while True:
                part = self.http.get(self.api(f"jobs/{name}/logs/"), params={"offset": 0}).json()
                if part["text"]:
                    latencies.append(time.perf_counter() - started)
                    break
                if part["final"]:
                    raise SystemExit(f"job {name} ended without output: {self.status(name)['failure_reason']}")
                time.sleep(0.01)
            self.wait_final(name)
            row = Job.objects.get(workspace=self.workspace, name=name)
            durations.append((row.finalizing_at - row.running_at).total_seconds())
        print(f"1. submit -> first log line, {label:<16} {summary(latencies)}")
        print(f"   trivial job's run time,    {label:<16} {summary(durations)}")

    def sandbox_cost(self, runs: int = 40) -> None:
        """The launcher alone: a trivial command through the runner's ProcessRun, with the sandbox
        and without it, alternating (so both see the same machine load)."""
        from django.conf import settings

        from compute import sandbox
        from compute.backends.process_runner import ProcessRun, RunSpec

        if not sandbox.status().sandboxed:
            print(f"   sandbox start-up: not measured ({sandbox.status().detail})")
            return
        folder = Path(tempfile.mkdtemp(dir=DATA))
        saved = settings.STUDIO_BWRAP, settings.STUDIO_ALLOW_UNSANDBOXED
        times: dict[str, list[float]] = {"sandbox": [], "none": []}
        try:
            settings.STUDIO_ALLOW_UNSANDBOXED = True
            for _ in range(runs):
                for label, binary in (("sandbox", saved[0]), ("none", "studio-bench-no-bwrap")):
                    settings.STUDIO_BWRAP = binary
                    spec = RunSpec(
                        command="echo hi", workdir=folder, env={"PATH": "/usr/bin:/bin"}, readonly=[Path(sys.prefix)]
                    )
                    started = time.perf_counter()
                    with ProcessRun(spec) as run:
                        run.pump(lambda text: None)
                        run.wait()
                    times[label].append(time.perf_counter() - started)
        finally:
            settings.STUDIO_BWRAP, settings.STUDIO_ALLOW_UNSANDBOXED = saved
        for label, values in times.items():
            print(f"   `echo hi` through the runner's launcher, {label:<8} {summary(values)}")
        added = statistics.median(times["sandbox"]) - statistics.median(times["none"])
        print(f"   the sandbox adds {added * 1000:.0f} ms per job (median; target < 50 ms)")

    # --- 2. log latency -------------------------------------------------------------------------

    def log_latency(self) -> None:
        lines = 100
        name = self.submit(f"python stamp.py {lines}", code=True)
        api_lat: list[float] = []
        sse_lat: list[float] = []
        done = threading.Event()

        def api_reader():
            import requests

            session = requests.Session()
            session.headers.update(self.http.headers)
            offset, pending = 0, ""
            while len(api_lat) < lines and not done.is_set():
                part = session.get(self.api(f"jobs/{name}/logs/"), params={"offset": offset}).json()
                now = time.time()
                offset = part["next_offset"]
                pending += part["text"]
                *complete, pending = pending.split("\n")
                api_lat.extend(now - float(line.split()[1]) for line in complete if line.startswith("stamp "))
                time.sleep(0.02)

        def sse_reader():
            try:
                _sse_reader()
            except Exception as exc:  # say what broke the stream reader, then report what it got
                print(f"   stream reader stopped: {type(exc).__name__}: {exc}")

        def _sse_reader():
            import requests

            session = requests.Session()
            session.cookies.update(self.http.cookies)
            url = f"{self.base}/w/{self.workspace.name}/jobs/{name}/log/stream/?offset=0"
            with session.get(url, stream=True, timeout=120) as response:
                pending, event = "", ""
                for raw in response.iter_lines(chunk_size=1, decode_unicode=True):
                    now = time.time()
                    if raw.startswith("event: "):
                        event = raw[7:]
                    elif raw.startswith("data: ") and event == "log":
                        pending += json.loads(raw[6:])["text"]
                        *complete, pending = pending.split("\n")
                        sse_lat.extend(now - float(line.split()[1]) for line in complete if line.startswith("stamp "))
                    elif event == "end" or len(sse_lat) >= lines:
                        break

        # The page's stream is a session-authenticated view; log the session in like a browser.
        self._login_session()
        threads = [threading.Thread(target=api_reader), threading.Thread(target=sse_reader)]
        for t in threads:
            t.start()
        self.wait_final(name)
        time.sleep(1)
        done.set()
        for t in threads:
            t.join(30)
        print(f"2. line printed -> readable, API    {summary(api_lat)}")
        print(f"   line printed -> readable, stream {summary(sse_lat)}")

    def _login_session(self) -> None:
        page = self.http.get(self.base + "/login/")
        token = page.cookies.get("csrftoken") or self.http.cookies.get("csrftoken")
        self.http.post(
            self.base + "/login/",
            data={"username": "bench", "password": "bench-password-123", "csrfmiddlewaretoken": token},
            headers={"Referer": self.base + "/login/"},
        )

    # --- 3. throughput ------------------------------------------------------------------------

    def throughput(self, compute: str = "local", label: str = "venv") -> None:
        from jobs.models import Job
        from studio import logs

        n = self.args.lines
        name = self.submit(f"python flood.py {n}", compute, code=True)
        job = self.wait_final(name)
        row = Job.objects.get(workspace=self.workspace, name=name)
        stream = row.log_stream("user_logs/std_log.txt")
        count, last, offset = 0, "", 0
        while True:
            part = logs.read(stream, offset, 4 * 1024 * 1024)
            if not part.text:
                break
            count += part.text.count("\n")
            last = part.text
            offset = part.next_offset
        lost = n - count
        seconds = (row.finalizing_at - row.running_at).total_seconds()
        tail = last.rstrip("\n").rsplit("\n", 1)[-1]
        print(
            f"3. throughput, {label}: {n:,} lines in {seconds:.2f} s (process start -> every line stored) = "
            f"{n / seconds:,.0f} lines/s; stored {count:,} lines, lost {lost}, last line {tail!r}, "
            f"status {job['status']}"
        )

    # --- 4. jobs list -----------------------------------------------------------------------------

    def jobs_list(self) -> None:
        from django.test import Client
        from django.utils import timezone

        from jobs.models import Experiment, Job

        total = self.args.list_jobs
        existing = Job.objects.filter(workspace=self.workspace).count()
        experiments = [
            Experiment.objects.get_or_create(workspace=self.workspace, name=f"exp-{i}")[0] for i in range(20)
        ]
        statuses = ["Completed"] * 7 + ["Failed", "Canceled", "Running"]
        now = timezone.now()
        batch = []
        started = time.perf_counter()
        for i in range(total - existing):
            batch.append(
                Job(
                    workspace=self.workspace,
                    name=f"bulk_job_{i:07d}",
                    display_name=f"run {i}",
                    experiment=experiments[i % 20],
                    status=statuses[i % 10],
                    created_by=self.user,
                    created_at=now - timezone.timedelta(seconds=i * 7),
                    command="python train.py",
                    environment_ref="bench-env:1",
                    environment_name="bench-env",
                    environment_version_label="1",
                    compute_name="local",
                    backend="venv",
                )
            )
            if len(batch) == 5000:
                Job.objects.bulk_create(batch)
                batch = []
        if batch:
            Job.objects.bulk_create(batch)
        from django.db import connection

        if connection.vendor == "postgresql":  # what autovacuum does after a bulk insert: stats + visibility map
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE jobs_job")
        print(
            f"4. jobs list with {Job.objects.filter(workspace=self.workspace).count():,} jobs "
            f"(inserted in {time.perf_counter() - started:.0f} s); server time per page:"
        )
        client = Client()
        client.force_login(self.user)
        base = f"/w/{self.workspace.name}/jobs/"
        for label, query in [
            ("first page", ""),
            ("status=Failed", "?status=Failed"),
            ("experiment=exp-3", "?experiment=exp-3"),
            ("created_by + sort name", "?created_by=bench&sort=name"),
            ("page 1000", "?page=1000"),
            ("htmx rows only", ""),
        ]:
            headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "job-rows"} if "htmx" in label else {}
            times = []
            for _ in range(11):
                t = time.perf_counter()
                response = client.get(base + query, **headers)
                times.append(time.perf_counter() - t)
                assert response.status_code == 200, response.status_code
            print(f"   {label:<24} {summary(times[1:])}")


def _docker_ok(image: str) -> bool:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.images.get(image)
        client.close()
        return True
    except Exception:
        return False


class _purge_queues:
    """Empty the local and docker queues of a reused broker database before measuring."""

    def __enter__(self):
        from studio.celery import app

        with app.connection_for_write() as conn:
            for queue in ("compute.local",):
                try:
                    conn.default_channel.queue_purge(queue)
                except Exception:
                    pass
        return self

    def __exit__(self, *exc):
        return False


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up in {timeout} s (see {DATA})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=50, help="jobs per backend for the first-line latency")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines the throughput job prints")
    parser.add_argument("--list-jobs", type=int, default=100_000, help="jobs in the workspace for the list page")
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--only", choices=["first", "latency", "throughput", "list"], action="append")
    args = parser.parse_args()
    # Stopped from outside (timeout, kill): still stop the web server and nodes it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(args)
    try:
        bench.setup()
        only = set(args.only or ["first", "latency", "throughput", "list"])
        if "first" in only:
            bench.first_line("local", "venv (sandbox)")
            bench.first_line("bare", "venv (none)")
            if bench.docker:
                bench.first_line("dock", "docker")
            else:
                print("1. docker: skipped (no engine or no base image)")
            bench.sandbox_cost()
        if "latency" in only:
            bench.log_latency()
        if "throughput" in only:
            bench.throughput("local", "venv")
            if bench.docker:
                bench.throughput("dock", "docker")
        if "list" in only:
            bench.jobs_list()
    finally:
        bench.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
