"""Metrics per deployment and the mirror comparison, as the router records them (in memory, then
one flush), read back over REST and on the endpoint page's parts — and who may read what."""

from __future__ import annotations

from endpoints import metrics, mirror, services
from endpoints.models import DeploymentMetrics, MirroredRequest
from tests.conftest import token_client

API = "/api/v1/workspaces/{ws}/online-endpoints/ep-one/"


def _endpoint_with_traffic(workspace, owner, light):
    endpoint = services.do_create_endpoint(workspace, {"name": "ep-one"}, actor=owner)
    blue = services.do_create_deployment(endpoint, {"name": "blue", **light}, actor=owner)
    services.do_create_deployment(endpoint, {"name": "green", **light}, actor=owner)
    services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}, "mirror_traffic": {"green": 10}}, actor=owner)
    for ms in [2.0] * 90 + [40.0] * 9 + [900.0]:
        metrics.record(blue.pk, ms, 200)
    metrics.record(blue.pk, 3.0, 502)
    mirror.record(endpoint.pk, "blue", "green", b'{"x": 1}', (200, b'{"a": 1}', 2.0), (200, b'{ "a" : 1 }', 5.0))
    mirror.record(endpoint.pk, "blue", "green", b'{"x": 2}', (200, b'{"a": 2}', 2.0), (500, b"boom <b>", 7.0))
    mirror.flush_all()
    return endpoint, blue


def test_router_counts_become_one_row_per_interval_with_percentiles(workspace, owner, members, light):
    endpoint, blue = _endpoint_with_traffic(workspace, owner, light)
    assert DeploymentMetrics.objects.filter(deployment=blue).count() == 1  # 101 requests, one row
    metrics.record(blue.pk, 2.0, 200)
    metrics.flush()  # a second flush adds to the same interval (as another process would)
    found = token_client(members["reader"]).get(API.format(ws=workspace.name) + "deployments/blue/metrics/").json()
    total = found["total"]
    assert total["requests"] == 102 and total["errors"] == 1
    p = total["latency_ms"]
    assert 2.0 <= p["p50"] < 2.5 and 40 <= p["p95"] < 48 and 40 <= p["p99"] < 48
    assert found["points"][0]["requests"] == 102
    green = token_client(owner).get(API.format(ws=workspace.name) + "deployments/green/metrics/").json()
    assert green["total"]["requests"] == 0 and green["total"]["latency_ms"]["p50"] is None
    bad = token_client(owner).get(API.format(ws=workspace.name) + "deployments/blue/metrics/?minutes=-1")
    assert bad.status_code == 400 and "minutes" in bad.json()["errors"]


def test_the_comparison_shows_differences_to_writers_only(client, login, workspace, owner, members, outsider, light):
    endpoint, _ = _endpoint_with_traffic(workspace, owner, light)
    url = API.format(ws=workspace.name) + "mirror-comparison/"
    found = token_client(owner).get(url).json()
    # Same JSON with other spacing is the same answer; a 500 is a difference.
    assert found["requests"] == 2 and found["differing"] == 1 and found["shadow_errors"] == 1
    assert found["differences"][0]["shadow_body"] == "boom <b>"
    assert found["live_latency_ms"]["p50"] == 2.0
    assert token_client(members["reader"]).get(url).status_code == 403
    assert token_client(outsider).get(url).status_code == 404

    page = f"/w/{workspace.name}/endpoints/ep-one/comparison/data/"
    login(owner)
    shown = client.get(page)
    assert shown.status_code == 200 and b"boom &lt;b&gt;" in shown.content and b"<b>" not in shown.content
    login(members["reader"])
    hidden = client.get(page)
    assert hidden.status_code == 200 and b"boom" not in hidden.content
    metrics_page = client.get(f"/w/{workspace.name}/endpoints/ep-one/metrics/data/?minutes=15")
    assert metrics_page.status_code == 200 and b"blue" in metrics_page.content and b"101" in metrics_page.content
    # On the endpoint page: a Metrics tab for every member, the Comparison tab for writers only.
    tab = client.get(f"/w/{workspace.name}/endpoints/ep-one/metrics/")
    assert tab.status_code == 200 and b'id="endpoint-metrics"' in tab.content and b"Comparison" not in tab.content
    assert client.get(f"/w/{workspace.name}/endpoints/ep-one/comparison/").status_code == 404  # no such tab for readers
    login(owner)
    tab = client.get(f"/w/{workspace.name}/endpoints/ep-one/comparison/")
    assert tab.status_code == 200 and b"boom &lt;b&gt;" in tab.content and b">Metrics<" in tab.content
    login(outsider)
    assert client.get(metrics_page.request["PATH_INFO"]).status_code == 404
    assert client.get(f"/w/{workspace.name}/endpoints/ep-one/metrics/").status_code == 404
    assert client.get(f"/w/{workspace.name}/endpoints/no-such/metrics/data/").status_code == 404


def test_only_the_newest_mirrored_pairs_are_kept(settings, workspace, owner, light):
    settings.STUDIO_MIRROR_KEEP = 10
    endpoint, _ = _endpoint_with_traffic(workspace, owner, light)
    for i in range(25):
        mirror.record(endpoint.pk, "blue", "green", b"{}", (200, b"1", 1.0), (200, str(i).encode(), 1.0))
    mirror.flush()
    kept = MirroredRequest.objects.filter(endpoint=endpoint)
    assert kept.count() == 10 and kept.first().shadow_body == "24"


def test_mirror_traffic_follows_azures_rules(workspace, owner, light):
    api = token_client(owner)
    endpoint = services.do_create_endpoint(workspace, {"name": "ep-one"}, actor=owner)
    for name in ("blue", "green", "red"):
        services.do_create_deployment(endpoint, {"name": name, **light}, actor=owner)
    url = API.format(ws=workspace.name)
    api.patch(url, {"traffic": {"blue": 100}}, format="json")
    for bad, says in [
        ({"green": 60}, "0 to 50"),
        ({"green": 10, "red": 10}, "one deployment"),
        ({"purple": 10}, "purple"),
        ({"blue": 10}, "live traffic"),
        ("green", "maps"),
    ]:
        answer = api.patch(url, {"mirror_traffic": bad}, format="json")
        assert answer.status_code == 400 and says in answer.json()["errors"]["mirror_traffic"][0], (bad, answer.json())
    assert api.patch(url, {"mirror_traffic": {"green": 50}}, format="json").json()["mirror_traffic"] == {"green": 50}
    # Moving live traffic to the shadow is refused while it is mirrored; deleting it un-mirrors it.
    answer = api.patch(url, {"traffic": {"blue": 50, "green": 50}}, format="json")
    assert answer.status_code == 400 and "mirror_traffic" in answer.json()["errors"]
    assert api.delete(url + "deployments/green/").status_code == 204
    assert api.get(url).json()["mirror_traffic"] == {}
