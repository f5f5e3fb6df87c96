"""Online endpoints: latency (p50/p95/p99) and requests/s of a scikit-learn deployment through the
router vs the same instance called directly, for 1 and 8 concurrent clients. Target: the router
adds under 2 ms at p50 and keeps at least 80% of the direct throughput.

The router is called in-process (Django's test client: the view, key check, traffic pick and the
pooled forward, not the web server's own cost); the instance over loopback HTTP.

    .venv/bin/python bench/endpoints.py     # builds a venv environment with uv (cached after once)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_DATA_DIR", tempfile.mkdtemp(prefix="studio-bench-"))
os.environ.setdefault("STUDIO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("STUDIO_SECURE_SSL", "false")
os.environ.setdefault("STUDIO_MANIFEST_STATIC", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

REQUESTS = 400
BODY = '{"data": [[3], [10]]}'


def percentiles(ms: list[float]) -> tuple[float, float, float]:
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100)
    return q[49], q[94], q[98]


def run(call, clients: int) -> tuple[list[float], float]:
    times: list[float] = []
    lock = threading.Lock()
    per = REQUESTS // clients

    def worker():
        local = []
        for _ in range(per):
            start = time.perf_counter()
            call()
            local.append((time.perf_counter() - start) * 1000)
        with lock:
            times.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, len(times) / (time.perf_counter() - start)


def setup():
    from django.contrib.auth import get_user_model

    from endpoints import instances, keys, services
    from endpoints.models import DeploymentInstance, InstanceStatus
    from environments import services as env_services
    from environments import spec
    from environments.builds import ensure_built
    from jobs.code import snapshot_from_zip
    from registry import services as registry
    from studio.services import do_create_workspace
    from tests.endpoints.conftest import CONDA, SCORE, TRAIN
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
        instances.reconcile()
        instance = DeploymentInstance.objects.first()
        if instance and instance.status == InstanceStatus.READY:
            return workspace, keys.read(endpoint)["primary"], instance.port
        time.sleep(0.5)
    raise SystemExit(f"the instance did not become ready: {DeploymentInstance.objects.values('status', 'detail')}")


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    from endpoints import instances

    workspace, key, port = setup()
    try:
        session = requests.Session()
        direct_url = f"http://127.0.0.1:{port}/score"
        url = f"/endpoints/{workspace.name}/bench-ep/score"
        local = threading.local()

        def direct():
            assert session.post(direct_url, data=BODY, headers={"Content-Type": "application/json"}).ok

        def routed():
            client = getattr(local, "client", None) or Client()
            local.client = client
            r = client.post(url, BODY, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
            assert r.status_code == 200, r.content

        run(direct, 1), run(routed, 1)  # warm up
        for clients in (1, 8):
            d_ms, d_rps = run(direct, clients)
            r_ms, r_rps = run(routed, clients)
            d, r = percentiles(d_ms), percentiles(r_ms)
            print(f"{clients} client(s), {REQUESTS} requests")
            print(f"  direct  p50 {d[0]:6.2f} ms  p95 {d[1]:6.2f}  p99 {d[2]:6.2f}  {d_rps:7.0f} req/s")
            print(f"  router  p50 {r[0]:6.2f} ms  p95 {r[1]:6.2f}  p99 {r[2]:6.2f}  {r_rps:7.0f} req/s")
            print(
                f"  router adds {r[0] - d[0]:.2f} ms at p50 (target < 2), "
                f"keeps {r_rps / d_rps:.0%} of throughput (target >= 80%)"
            )
    finally:
        instances.stop_all()


if __name__ == "__main__":
    main()
