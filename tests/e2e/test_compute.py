"""In a real browser: create a compute cluster, watch its node appear when a real worker starts,
and stop a compute instance."""

import os

import pytest
from playwright.sync_api import expect

from compute.models import ComputeTarget, Node
from tests.compute.conftest import Workers, broker_reachable, database_url, make_target, purged, wait_for
from tests.conftest import require
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, add_member, make_workspace

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def workers(transactional_db, tmp_path, settings):
    url = database_url()
    require(url is not None, "a database other processes can open (DATABASE_URL=postgres://…)")
    require(settings.CELERY_BROKER_URL.startswith("redis://") and broker_reachable(), "a Redis broker")
    env = os.environ | {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "STUDIO_NODE_HEARTBEAT_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    pool = Workers(env, tmp_path)
    try:
        yield pool
    finally:
        pool.close()


def test_create_a_cluster_see_its_node_arrive_and_stop_an_instance(page, workers):
    olivia = UserFactory(username="olivia")
    dana = UserFactory(username="dana")
    ws = make_workspace(olivia, "vision")
    add_member(ws, dana, "data_scientist", actor=olivia)

    sign_in(page, "olivia")
    page.goto("/w/vision/")
    page.get_by_role("link", name="Compute").first.click()
    expect(page.get_by_role("heading", name="Compute", exact=True)).to_be_visible()
    page.get_by_role("link", name="Compute clusters").click()
    page.get_by_role("link", name="New compute cluster").first.click()
    page.fill("#id_name", "cpu-cluster")
    page.select_option("#id_size", "Standard_DS2_v2")
    page.fill("#id_min_instances", "0")
    page.fill("#id_max_instances", "3")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Compute cluster cpu-cluster created.")).to_be_visible()
    expect(page.get_by_text("No node serves this target yet")).to_be_visible()
    expect(page.locator(".c-cmd").first).to_have_text("python manage.py studio_worker --compute vision/cpu-cluster")

    target = ComputeTarget.objects.get(workspace=ws, name="cpu-cluster")
    with purged(target.queue_name):
        workers.start("vision/cpu-cluster")
        node = wait_for(lambda: Node.objects.filter(queue=target.queue_name).first(), 60, what="the node")
        # no reload: the node list refreshes itself
        row = page.locator(".c-nodes-table tbody tr").filter(has_text=node.worker_name)
        expect(row).to_be_visible(timeout=15_000)
        expect(row.locator(".cstate")).to_have_text("Ready")
        expect(page.locator(".c-stats")).to_contain_text("1")
        page.get_by_role("button", name="Send a test task").click()
        expect(page.get_by_text("picked up by")).to_be_visible(timeout=15_000)
        screenshot(page, "compute-cluster-with-node")

    make_target(ws, olivia, name="dana-box", type="computeinstance", assigned_to="dana")
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "dana")
    page.goto("/w/vision/compute/")
    row = page.locator("tbody tr").filter(has_text="dana-box")
    expect(row).to_contain_text("Starting")
    expect(row).to_contain_text("dana (you)")
    row.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("dana-box: stopped.")).to_be_visible()
    expect(row.locator(".cstate")).to_have_text("Stopped")
    expect(row.get_by_role("button", name="Start")).to_be_visible()
    assert ComputeTarget.objects.get(name="dana-box").state == "Stopped"
    screenshot(page, "compute-instances")
    # a Data Scientist sees clusters but gets no management buttons
    page.goto("/w/vision/compute/cpu-cluster/")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Send a test task")).to_have_count(0)
