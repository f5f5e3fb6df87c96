"""Online endpoints: latency (p50/p95/p99) and requests/s of a scikit-learn deployment, for 1 and 8
concurrent clients, three ways:

- direct: the instance (Azure's inference server) called over loopback with its secret, no router;
- router: the same instance through Studio's scoring URI, served by `uvicorn studio.asgi:application`
  in its own process, as in production (the ASGI router mounted before Django: key check, split,
  pooled forward, metrics);
- mlflow: the same model under MLflow's own `mlflow models serve` (if the test cache holds the
  mlflow venv the tracking tests build; see tests/tracking/conftest.py).

Then the router's own cost, without the model server's noise: a trivial upstream (an aiohttp
server answering a constant) called direct and through the router (a deployment row pointing at it).

Targets: the router adds under 2 ms at p50 and keeps at least 80% of the direct throughput. The
client is one asyncio process (aiohttp), the same for all three. On a 2-core machine the client,
the router and the instance share the cores, so router figures include that contention.

It also prints the CPU time each server process spends per request (from /proc, so independent of
the load): the router's own cost. On a loaded machine the router's extra latency over the trivial
upstream is mostly waiting for a core (one more process to schedule, twice per request), not its
code: run the bench under `chrt -f 10` (root; the client, the router and the upstreams inherit a
real-time policy and stop queueing behind other work) to see the figures of an idle machine.

    .venv/bin/python bench/endpoints.py     # builds a venv environment with uv (cached after once)
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_django import setup_django  # a sibling of this script

ROOT = setup_django("127.0.0.1,testserver")

import aiohttp  # noqa: E402
from django.core.management import call_command  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BODY = b'{"data": [[3], [10]]}'
MLFLOW_BODY = b'{"inputs": [[3], [10]]}'
MLFLOW_VERSION = "3.17.2"


def percentiles(ms: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(sorted(ms), n=100)
    return q[49], q[94], q[98]


async def run(url: str, body: bytes, headers: dict[str, str], clients: int) -> tuple[list[float], float]:
    times: list[float] = []
    per = REQUESTS // clients
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker():
            for _ in range(per):
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()
                    assert r.status == 200, (r.status, await r.text())
                times.append((time.perf_counter() - start) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return times, len(times) / (time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60, method: str = "GET") -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.request(method, url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def setup():
    from django.contrib.auth import get_user_model

    from endpoints import keys, services
    from endpoints.models import DeploymentInstance, InstanceStatus
    from environments import services as env_services
    from environments import spec
    from environments.builds import ensure_built
    from jobs.code import snapshot_from_zip
    from registry import services as registry
    from studio.services import do_create_workspace
    from tests.endpoints.conftest import CONDA, SCORE, TRAIN
    from tests.endpoints.helpers import reconcile_here
    from tests.jobs.conftest import make_zip

    owner = get_user_model().objects.create_user("bench", password="x")
    workspace = do_create_workspace(name="bench", actor=owner)
    version = env_services.do_create_environment_version(
        workspace, actor=owner, definition=spec.parse({"name": "serve", "image": "x", "conda_file": CONDA})
    )
    python = ensure_built(version, "venv", workspace=workspace, actor=owner).python
    model_file = Path(tempfile.mkdtemp()) / "model.pkl"
    subprocess.run([python, "-c", TRAIN, str(model_file)], check=True)
    sink = registry.upload_sink_for(workspace)
    sink.open("model.pkl").write(model_file.read_bytes())
    sink.finish()
    registry.do_create_model_version_from_upload(workspace, sink, actor=owner, name="doubler")
    code = snapshot_from_zip(workspace, make_zip({"score.py": SCORE}), actor=owner)
    endpoint = services.do_create_endpoint(workspace, {"name": "bench-ep"}, actor=owner)
    services.do_create_deployment(
        endpoint,
        {
            "name": "blue",
            "model": "azureml:doubler:1",
            "environment": "azureml:serve:1",
            "code_configuration": {"code": code.pk, "scoring_script": "score.py"},
        },
        actor=owner,
    )
    endpoint = services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        reconcile_here()
        instance = DeploymentInstance.objects.first()
        if instance and instance.status == InstanceStatus.READY:
            return workspace, keys.read(endpoint)["primary"], instance.port, instance.secret
        time.sleep(0.5)
    raise SystemExit(f"the instance did not become ready: {DeploymentInstance.objects.values('status', 'detail')}")


def start_router() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "uvicorn"), "studio.asgi:application", "--host", "127.0.0.1"]
        + ["--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    wait_http(f"http://127.0.0.1:{port}/endpoints/x/y/score", method="POST")
    return process, f"http://127.0.0.1:{port}"


def start_mlflow() -> tuple[subprocess.Popen, str] | None:
    cache = Path(os.environ.get("STUDIO_TEST_CACHE", Path.home() / ".cache" / "studio-tests"))
    python = cache / f"mlflow-{MLFLOW_VERSION}" / "bin" / "python"
    if not (cache / f"mlflow-{MLFLOW_VERSION}" / ".complete").exists():
        print("mlflow: skipped (no mlflow venv in the test cache: run tests/tracking once)")
        return None
    model = Path(tempfile.mkdtemp(prefix="bench-mlflow-")) / "model"
    save = (
        "import sys, mlflow.sklearn\n"
        "from sklearn.linear_model import LinearRegression\n"
        "m = LinearRegression().fit([[0], [1], [2]], [0, 2, 4])\n"
        "mlflow.sklearn.save_model(m, sys.argv[1])\n"
    )
    subprocess.run([str(python), "-c", save, str(model)], check=True, capture_output=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DJANGO_", "STUDIO_"))}
    process = subprocess.Popen(
        [str(python), "-m", "mlflow", "models", "serve", "-m", str(model), "--env-manager", "local"]
        + ["-h", "127.0.0.1", "-p", str(port), "-w", "1"],
        env=env | {"PATH": f"{python.parent}:{env.get('PATH', '')}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_http(f"http://127.0.0.1:{port}/ping", timeout=120)
    return process, f"http://127.0.0.1:{port}"


TRIVIAL = """
import sys
from aiohttp import web
async def score(request):
    await request.read()
    return web.json_response({"predictions": [6.0, 20.0]})
app = web.Application()
app.router.add_post("/score", score)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def start_trivial(workspace) -> tuple[subprocess.Popen, int]:
    """A constant-answer upstream, registered as the ready instance of a deployment `trivial`
    (a row only: no reconcile runs after this, so nothing replaces it)."""
    from endpoints import services
    from endpoints.models import DeploymentInstance, InstanceStatus, OnlineEndpoint
    from studio import crypto

    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", TRIVIAL, str(port)], start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/score", method="POST")
    endpoint = OnlineEndpoint.objects.get(name="bench-ep")
    blue = endpoint.deployments.get(name="blue")
    deployment = services.do_create_deployment(
        endpoint,
        {
            "name": "trivial",
            "model": blue.model,
            "environment": blue.environment,
            "code_configuration": {"code": blue.code_id, "scoring_script": blue.scoring_script},
        },
        actor=None,
    )
    DeploymentInstance.objects.create(
        deployment=deployment,
        host="127.0.0.1",
        port=port,
        status=InstanceStatus.READY,
        secret_encrypted=crypto.encrypt("unchecked"),  # the constant upstream checks nothing
    )
    return process, port


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def line(label: str, results: list[tuple[list[float], float]]) -> tuple[float, float]:
    p50, p95, p99 = (statistics.median(percentiles(ms)[i] for ms, _ in results) for i in range(3))
    rps = statistics.median(rps for _, rps in results)
    print(f"  {label:18} p50 {p50:6.2f} ms  p95 {p95:6.2f}  p99 {p99:6.2f}  {rps:7.0f} req/s")
    return p50, rps


def main() -> None:
    call_command("migrate", verbosity=0)
    from endpoints import instances, routes

    workspace, key, port, secret = setup()
    trivial, trivial_port = start_trivial(workspace)
    router, base = start_router()
    served = start_mlflow()
    try:
        json = {"Content-Type": "application/json"}
        targets = {
            # Direct calls carry the instance's secret, as the router's do (its server wants it).
            "direct": (f"http://127.0.0.1:{port}/score", BODY, json | {routes.KEY_HEADER: secret}),
            "router": (
                f"{base}/endpoints/{workspace.name}/bench-ep/score",
                BODY,
                json | {"Authorization": f"Bearer {key}"},
            ),
        }
        if served is not None:
            targets["mlflow"] = (f"{served[1]}/invocations", MLFLOW_BODY, json)
        targets["trivial"] = (f"http://127.0.0.1:{trivial_port}/score", BODY, json)
        targets["trivial via router"] = (
            targets["router"][0],
            BODY,
            targets["router"][2] | {"azureml-model-deployment": "trivial"},
        )
        servers = {"router": router.pid, "trivial": trivial.pid, "trivial via router": router.pid}
        for url, body, headers in targets.values():  # warm up every server and pool
            asyncio.run(run(url, body, headers, 1))
        for clients in (1, 8):
            # Rounds interleave the three servers, so a burst of load elsewhere hits them alike;
            # each figure is the median over the rounds.
            rounds: dict[str, list[tuple[list[float], float]]] = {name: [] for name in targets}
            # CPU ms per request of the process that serves each target first (the router's for
            # the routed ones), measured around the same rounds.
            cpu: dict[str, list[float]] = {name: [] for name in servers}
            for _ in range(ROUNDS):
                for name, target in targets.items():
                    before = cpu_seconds(servers[name]) if name in servers else 0.0
                    rounds[name].append(asyncio.run(run(*target, clients)))
                    if name in servers:
                        cpu[name].append((cpu_seconds(servers[name]) - before) * 1000 / REQUESTS)
            print(
                f"{clients} client(s), {ROUNDS} rounds of {REQUESTS} requests (medians), "
                f"load average {os.getloadavg()[0]:.1f}"
            )
            found = {name: line(name, results) for name, results in rounds.items()}
            print(
                "  CPU per request: "
                + ", ".join(f"{name} {statistics.median(ms):.3f} ms" for name, ms in cpu.items())
                + " (the router's process for the routed rows)"
            )
            for direct, routed in (("direct", "router"), ("trivial", "trivial via router")):
                (d50, drps), (r50, rrps) = found[direct], found[routed]
                print(
                    f"  {routed}: adds {r50 - d50:.2f} ms at p50 (target < 2), "
                    f"keeps {rrps / drps:.0%} of {direct} throughput (target >= 80%)"
                )
            if "mlflow" in found:
                (r50, rrps), (m50, mrps) = found["router"], found["mlflow"]
                print(f"  router vs mlflow models serve: p50 {r50:.2f} vs {m50:.2f} ms, {rrps / mrps:.2f}x the req/s")
    finally:
        stop(router)
        stop(trivial)
        if served is not None:
            stop(served[0])
        instances.stop_all()


if __name__ == "__main__":
    main()
