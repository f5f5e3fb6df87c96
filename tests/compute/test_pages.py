"""The Compute pages: tabs, create/edit/delete forms, YAML upload, the live node list."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compute import services
from compute.models import ComputeTarget, DispatchProbe, TargetState
from studio.models import ActivityEvent
from tests.compute.conftest import make_target, register

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "compute-live"}


@pytest.fixture
def browser(client, owner):
    client.force_login(owner)
    return client


def page(client, path, **kw) -> str:
    response = client.get(path, **kw)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_nav_leads_to_the_compute_page(browser, workspace):
    home = page(browser, "/w/ws-main/")
    assert 'href="/w/ws-main/compute/"' in home


def test_tabs_show_each_kind_with_counts(browser, workspace, owner, members):
    make_target(workspace, owner, name="cpu", max_instances=3)
    make_target(workspace, owner, name="ds-box", type="computeinstance", assigned_to="datascientist_user")
    instances = page(browser, "/w/ws-main/compute/")
    assert 'Compute instances <span class="c-count">1</span>' in instances
    assert "ds-box" in instances and "datascientist_user" in instances and "<strong>cpu</strong>" not in instances
    clusters = page(browser, "/w/ws-main/compute/?tab=clusters")
    assert "<strong>cpu</strong>" in clusters and "0–3" in clusters and "Standard_DS3_v2" in clusters
    local = page(browser, "/w/ws-main/compute/?tab=local")
    assert "<strong>local</strong>" in local and "built in" in local
    attached = page(browser, "/w/ws-main/compute/?tab=attached")
    assert "No attached compute" in attached


def test_creating_a_cluster_from_the_form(browser, workspace):
    form = page(browser, "/w/ws-main/compute/new/?type=cluster")
    assert 'name="min_instances"' in form and 'name="assigned_to"' not in form and 'name="docker_host"' not in form
    response = browser.post(
        "/w/ws-main/compute/new/",
        {
            "type": "cluster",
            "name": "gpu",
            "size": "custom",
            "cpu_cores": "2.5",
            "memory_mb": "8192",
            "gpus": "1",
            "backend": "docker",
            "min_instances": "0",
            "max_instances": "2",
            "idle_time_before_scale_down": "60",
            "tier": "low_priority",
            "tags": "team=vision",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/w/ws-main/compute/gpu/"
    target = ComputeTarget.objects.get(name="gpu")
    assert (float(target.cpu_cores), target.memory_mb, target.gpus, target.size) == (2.5, 8192, 1, "")
    assert (target.backend, target.tier, target.tags) == ("docker", "low_priority", {"team": "vision"})
    detail = page(browser, "/w/ws-main/compute/gpu/")
    assert "2.5 cores, 8 GB RAM, 1 GPU" in detail
    assert "python manage.py studio_worker --compute ws-main/gpu" in detail
    assert "celery -A studio worker -Q compute.ws-main.gpu" in detail


def test_form_errors_come_back_on_their_fields_and_nothing_is_saved(browser, workspace):
    response = browser.post(
        "/w/ws-main/compute/new/",
        {
            "type": "cluster",
            "name": "bad",
            "size": "Standard_DS1_v2",
            "backend": "venv",
            "min_instances": "5",
            "max_instances": "2",
            "idle_time_before_scale_down": "60",
            "tier": "dedicated",
        },
    )
    assert response.status_code == 200
    assert "min_instances (5) cannot be more than max_instances (2)." in response.content.decode()
    assert not ComputeTarget.objects.filter(name="bad").exists()


def test_attaching_an_unreachable_engine_shows_why(browser, workspace):
    response = browser.post(
        "/w/ws-main/compute/new/",
        {"type": "attached", "name": "far", "docker_host": "tcp://127.0.0.1:9", "size": "Standard_DS1_v2"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Cannot reach the Docker engine at tcp://127.0.0.1:9: connection refused" in body
    assert not ComputeTarget.objects.filter(name="far").exists()


def test_creating_an_instance_for_a_member(browser, workspace, members):
    form = page(browser, "/w/ws-main/compute/new/?type=instance")
    assert '<option value="datascientist_user">' in form
    response = browser.post(
        "/w/ws-main/compute/new/",
        {
            "type": "instance",
            "name": "ds-box",
            "assigned_to": "datascientist_user",
            "size": "Standard_DS1_v2",
            "backend": "venv",
        },
    )
    assert response.status_code == 302
    assert ComputeTarget.objects.get(name="ds-box").assigned_to.username == "datascientist_user"


def test_creating_from_yaml_reports_ignored_keys(browser, workspace):
    text = (
        "name: yml-cluster\ntype: amlcompute\nmax_instances: 3\n"
        "location: westeurope\nidentity:\n  type: system_assigned\n"
    )
    response = browser.post(
        "/w/ws-main/compute/new/yaml/", {"yaml_file": SimpleUploadedFile("c.yml", text.encode())}, follow=True
    )
    body = response.content.decode()
    assert ComputeTarget.objects.get(name="yml-cluster").max_instances == 3
    assert "&#x27;location&#x27; (line 4) is accepted but ignored by Studio." in body


def test_a_bad_yaml_says_where(browser, workspace):
    response = browser.post(
        "/w/ws-main/compute/new/yaml/", {"yaml_text": "name: y\ntype: amlcompute\nmin_instances: 3\nmax_instances: 1\n"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "name: Use 2–32 letters" in body
        and "min_instances: min_instances (3) cannot be more than max_instances (1)." in body
    )
    empty = browser.post("/w/ws-main/compute/new/yaml/", {"yaml_text": ""})
    assert "Paste a compute YAML or choose a file." in empty.content.decode()


def test_editing_a_target(browser, workspace, owner):
    make_target(workspace, owner, name="cpu", max_instances=2, size="Standard_DS1_v2")
    form = page(browser, "/w/ws-main/compute/cpu/edit/")
    assert 'value="cpu"' in form and "disabled" in form.split('name="name"')[1][:80]
    response = browser.post(
        "/w/ws-main/compute/cpu/edit/",
        {
            "size": "Standard_DS1_v2",
            "backend": "venv",
            "min_instances": "1",
            "max_instances": "6",
            "idle_time_before_scale_down": "30",
            "tier": "dedicated",
            "description": "More",
        },
    )
    assert response.status_code == 302
    target = ComputeTarget.objects.get(name="cpu")
    assert (target.min_instances, target.max_instances, target.description) == (1, 6, "More")
    assert set(ActivityEvent.objects.get(verb="compute.updated").data["fields"]) == {
        "description",
        "min_instances",
        "max_instances",
        "idle_time_before_scale_down",
    }


def test_deleting_from_the_page(browser, workspace, owner):
    make_target(workspace, owner, name="cpu")
    response = browser.post("/w/ws-main/compute/cpu/delete/")
    assert response.status_code == 302 and response["Location"] == "/w/ws-main/compute/?tab=clusters"
    assert not ComputeTarget.objects.filter(name="cpu").exists()
    local = browser.post("/w/ws-main/compute/local/delete/", follow=True)
    assert "The built-in local target cannot be deleted." in local.content.decode()


def test_the_detail_page_lists_nodes_live(browser, cluster):
    empty = page(browser, f"/w/ws-main/compute/{cluster.name}/")
    assert "No node serves this target yet" in empty and 'hx-trigger="every 2s"' in empty
    register(cluster, "w1@box")
    partial = browser.get(f"/w/ws-main/compute/{cluster.name}/", **HX)
    body = partial.content.decode()
    assert partial.status_code == 200 and body.startswith('<div id="compute-live"')
    assert "w1@box" in body and "Ready" in body and "<html" not in body


def test_polling_stops_when_nothing_can_change(browser, instance, owner):
    services.do_stop_compute(instance, actor=owner)
    full = page(browser, f"/w/ws-main/compute/{instance.name}/")
    assert 'hx-trigger="every 2s"' not in full
    partial = browser.get(f"/w/ws-main/compute/{instance.name}/", **HX)
    assert partial.status_code == 286 and "hx-trigger" not in partial.content.decode()


def test_stopping_and_starting_an_instance_from_the_list(client, instance, members):
    client.force_login(members["data_scientist"])
    row = page(client, "/w/ws-main/compute/")
    assert ">Stop</button>" in row
    response = client.post(f"/w/ws-main/compute/{instance.name}/stop/", {"next": "/w/ws-main/compute/"})
    assert response.status_code == 302 and response["Location"] == "/w/ws-main/compute/"
    instance.refresh_from_db()
    assert instance.state == TargetState.STOPPED
    assert ">Start</button>" in page(client, "/w/ws-main/compute/")
    # an outside `next` is ignored
    response = client.post(f"/w/ws-main/compute/{instance.name}/start/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/w/ws-main/compute/{instance.name}/"


def test_draining_a_node_from_the_page(browser, cluster):
    node = register(cluster)
    response = browser.post(f"/w/ws-main/compute/{cluster.name}/nodes/{node.pk}/drain/", follow=True)
    assert "will finish its running jobs" in response.content.decode()
    node.refresh_from_db()
    assert node.drain_requested


def test_a_test_task_is_recorded(browser, cluster):
    response = browser.post(f"/w/ws-main/compute/{cluster.name}/probe/", follow=True)
    assert "no node consumes this target" in response.content.decode()
    assert DispatchProbe.objects.filter(target=cluster).count() == 1
    assert "no node has picked it up yet" in response.content.decode()


def test_user_content_is_escaped(browser, workspace, owner):
    make_target(workspace, owner, name="esc", description="<script>alert(1)</script>", tags={"<b>": "x"})
    body = page(browser, "/w/ws-main/compute/esc/")
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
