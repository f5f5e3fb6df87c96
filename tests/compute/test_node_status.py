"""A cluster's status says how many nodes are up, never a green "Running" with none; with the local
scaler on, the page offers "Start a node" and still shows the command for other machines."""

from __future__ import annotations

import pytest

from compute.models import ComputeTarget
from studio.models import ActivityEvent
from tests.compute.conftest import make_target, register
from tests.compute.test_scaling import make_job
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, owner):
    client.force_login(owner)
    return client


def test_a_cluster_with_no_node_is_not_shown_running(browser, workspace, owner):
    target = make_target(workspace, owner, name="cpu", min_instances=0, max_instances=2)
    listing = browser.get("/w/ws-main/compute/?tab=clusters").content.decode()
    assert "cstate-running" not in listing and "0 nodes up, no job waiting" in listing
    make_job(target, "Queued")
    make_job(target, "Queued")
    detail = browser.get("/w/ws-main/compute/cpu/").content.decode()
    assert "0 of 2 nodes up" in detail and "cstate-running" not in detail
    register(target, "w1@host")
    register(target, "w2@host")
    detail = browser.get("/w/ws-main/compute/cpu/").content.decode()
    assert "2 of 2 nodes up" in detail and "cstate-running" in detail
    status = token_client(owner).get("/api/v1/workspaces/ws-main/computes/cpu/").json()["status"]
    assert status == {"state": "Running", "nodes_up": "2 of 2 nodes up"}


def test_start_a_node_asks_the_local_scaler_for_one_more_up_to_max(browser, workspace, owner, members, settings):
    settings.STUDIO_LOCAL_SCALER = True
    settings.STUDIO_SCALER_COMMAND = ""
    target = make_target(workspace, owner, name="cpu", min_instances=0, max_instances=1)
    detail = browser.get("/w/ws-main/compute/cpu/").content.decode()
    assert "Start a node" in detail and "local scaler" in detail
    assert "python manage.py studio_worker --compute ws-main/cpu" in detail  # for other machines
    browser.post("/w/ws-main/compute/cpu/nodes/start/")
    target.refresh_from_db()
    assert target.desired_nodes == 1
    assert ActivityEvent.objects.filter(verb="compute.node_requested", target="cpu").exists()
    again = browser.post("/w/ws-main/compute/cpu/nodes/start/", follow=True).content.decode()
    assert "at most 1 node" in again
    assert ComputeTarget.objects.get(pk=target.pk).desired_nodes == 1


def test_a_reader_cannot_start_a_node(client, workspace, owner, members):
    make_target(workspace, owner, name="cpu", min_instances=0, max_instances=2)
    client.force_login(members["reader"])
    assert "Start a node" not in client.get("/w/ws-main/compute/cpu/").content.decode()
    assert client.post("/w/ws-main/compute/cpu/nodes/start/").status_code == 403


def test_a_job_waiting_for_a_cluster_says_who_starts_its_node(workspace, owner, settings):
    from jobs.waits import queue_wait_reason

    target = make_target(workspace, owner, name="cpu", min_instances=0, max_instances=2)
    job = make_job(target, "Queued")
    settings.STUDIO_LOCAL_SCALER, settings.STUDIO_SCALER_COMMAND = False, ""
    assert "start one: studio_worker --compute ws-main/cpu" in queue_wait_reason(job)
    settings.STUDIO_LOCAL_SCALER = True
    assert "the local scaler is starting one" in queue_wait_reason(job)
