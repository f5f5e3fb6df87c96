"""The scoring router for real: Studio's ASGI application under uvicorn, two real deployments of a
scikit-learn model (Azure's inference server in the sandbox) — the traffic split, the header
override, mirroring to a shadow, metrics per deployment, and an update with requests running."""

from __future__ import annotations

import threading
import time

import requests

from endpoints import metrics, mirror, services
from endpoints.models import DeploymentInstance, MirroredRequest
from tests.conftest import token_client
from tests.endpoints.helpers import reconcile_here

BODY = '{"data": [[3], [10]]}'
API = "/api/v1/workspaces/{ws}/online-endpoints/doubler-ep/"


def _post(session, url, key, **headers):
    return session.post(
        url, data=BODY, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers}
    )


def test_split_override_mirroring_and_metrics_through_the_asgi_router(asgi_server, workspace, owner, blue_green):
    endpoint, key = blue_green
    url = f"{asgi_server}/endpoints/{workspace.name}/doubler-ep/score"
    session = requests.Session()
    services.do_update_endpoint(endpoint, {"traffic": {"blue": 90, "green": 10}}, actor=owner)

    # 90/10 over 1,000 requests: the answers (and the response header) say who served them.
    served = []
    for _ in range(1000):
        answer = _post(session, url, key)
        assert answer.status_code == 200, answer.text
        assert answer.json()["who"] == answer.headers["azureml-model-deployment"]
        served.append(answer.json()["who"])
    assert abs(served.count("green") / 1000 - 0.10) <= 0.02, served.count("green")

    # The header picks a deployment, whatever the split; a missing one is a clear 404.
    assert _post(session, url, key, **{"azureml-model-deployment": "green"}).json()["who"] == "green"
    missing = _post(session, url, key, **{"azureml-model-deployment": "purple"})
    assert missing.status_code == 404 and "purple" in missing.json()["detail"]
    wrong = _post(session, url, "wrong")
    assert wrong.status_code == 401 and wrong.headers["X-Content-Type-Options"] == "nosniff"
    assert session.get(url).status_code == 405
    # The mount skips Django's request cycle, not its ALLOWED_HOSTS check.
    assert _post(session, url, key, Host="evil.example").status_code == 400

    # Mirroring: blue answers every request; green gets a 20% copy whose answer is only recorded.
    api = token_client(owner)
    bad = api.patch(API.format(ws=workspace.name), {"mirror_traffic": {"blue": 10}}, format="json")
    assert bad.status_code == 400 and "live traffic" in bad.json()["errors"]["mirror_traffic"][0]
    ok = api.patch(
        API.format(ws=workspace.name), {"traffic": {"blue": 100}, "mirror_traffic": {"green": 20}}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["mirror_traffic"] == {"green": 20}
    for _ in range(100):
        answer = _post(session, url, key)
        assert answer.status_code == 200 and answer.json()["who"] == "blue"
    # Shadow calls finish after their answers: wait for all 20, then write what the router holds
    # (its flush runs every interval; the server's shutdown flushes too).
    deadline = time.monotonic() + 10
    while len(mirror._pending) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    mirror.flush_all()
    recorded = MirroredRequest.objects.filter(endpoint=endpoint)
    assert recorded.count() == 20
    pair = recorded.first()
    assert (pair.live, pair.shadow, pair.live_status, pair.shadow_status) == ("blue", "green", 200, 200)
    assert '"green"' in pair.shadow_body and '"blue"' in pair.live_body and pair.differs

    comparison = api.get(API.format(ws=workspace.name) + "mirror-comparison/").json()
    assert comparison["requests"] == 20 and comparison["differing"] == 20
    assert comparison["live_latency_ms"]["p50"] > 0 and comparison["shadow_latency_ms"]["p50"] > 0
    assert '"green"' in comparison["differences"][0]["shadow_body"]

    # Metrics per deployment, counted in memory by the router and written per interval.
    blue = api.get(API.format(ws=workspace.name) + "deployments/blue/metrics/?minutes=5").json()
    green = api.get(API.format(ws=workspace.name) + "deployments/green/metrics/?minutes=5").json()
    assert blue["total"]["requests"] == 900 + 100
    assert green["total"]["requests"] == 100 + 1  # the split, the header (mirror copies are not live traffic)
    assert blue["total"]["errors"] == 0
    p = blue["total"]["latency_ms"]
    assert 0 < p["p50"] <= p["p95"] <= p["p99"]
    assert blue["points"] and blue["points"][0]["requests_per_second"] > 0
    assert api.get(API.format(ws=workspace.name) + "deployments/blue/metrics/?minutes=x").status_code == 400


def test_an_update_with_requests_running_fails_none(asgi_server, settings, workspace, owner, blue_green):
    settings.STUDIO_ROUTER_CACHE_MS = 200  # replaced instances drain for 3 s
    endpoint, key = blue_green
    services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)
    url = f"{asgi_server}/endpoints/{workspace.name}/doubler-ep/score"
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    def loop():
        session = requests.Session()
        while not stop.is_set():
            try:
                r = _post(session, url, key)
                answers.append((r.status_code, r.json().get("who", r.text) if r.ok else r.text))
            except requests.RequestException as exc:
                answers.append((0, repr(exc)))

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        blue = endpoint.deployments.get(name="blue")
        services.do_update_deployment(blue, {"environment_variables": {"WHO": "blue-2"}}, actor=owner)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            reconcile_here()
            generations = set(DeploymentInstance.objects.filter(deployment=blue).values_list("generation", flat=True))
            if generations == {2} and any(who == "blue-2" for _, who in answers[-20:]):
                break
            time.sleep(0.3)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    failed = [a for a in answers if a[0] != 200]
    assert not failed, failed[:5]
    who = [w for _, w in answers]
    assert who.count("blue") > 10 and who.count("blue-2") > 10, (who.count("blue"), who.count("blue-2"))
    # Never back to the old answer once the new one has been served.
    assert "blue" not in who[who.index("blue-2") + 20 :]
    assert DeploymentInstance.objects.filter(deployment=blue).count() == 1
    metrics.flush()
