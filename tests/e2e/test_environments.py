"""Browse the curated catalog, create a custom environment from an image + conda file, build it
on Docker and watch its log arrive in the page while it builds, until it succeeds."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from compute.backends import get_backend
from environments import tasks
from environments.models import BuildStatus, EnvironmentBuild
from tests.conftest import require
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, make_workspace

pytestmark = pytest.mark.docker


@pytest.fixture
def worker():
    """A worker thread that runs queued builds with the real Celery task function (the broker is
    not what this test is about: the test server's database is not reachable from a separate
    worker process)."""
    stop = threading.Event()

    def loop():
        try:
            while not stop.wait(0.1):
                for pk in EnvironmentBuild.objects.filter(status=BuildStatus.QUEUED).values_list("pk", flat=True):
                    tasks.build_environment(pk)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


@pytest.fixture
def docker_engine():
    ok, why = get_backend("docker").available()
    require(ok, f"Docker ({why})")
    import docker

    client = docker.from_env()
    try:
        client.images.get(settings.STUDIO_BASE_IMAGE)
    except docker.errors.ImageNotFound:
        require(False, f"the base image {settings.STUDIO_BASE_IMAGE}")
    tags: list[str] = []
    yield tags
    for tag in tags:
        try:
            client.images.remove(tag, force=True)
        except docker.errors.DockerException:
            pass


def test_browse_curated_then_create_and_build_a_custom_environment(page, transactional_db, worker, docker_engine):
    owner = UserFactory(username="olivia")
    make_workspace(owner, "vision-team")
    sign_in(page, "olivia")

    page.get_by_role("link", name="Environments").first.click()
    expect(page.get_by_role("heading", name="Environments")).to_be_visible()
    page.get_by_role("link", name="Curated environments").click()
    page.get_by_placeholder("Search by name").fill("sklearn")
    expect(page.locator("#environment-rows tbody tr")).to_have_count(2)  # training, and inference
    page.get_by_label("Filter by tag").select_option("Framework=scikit-learn")
    page.get_by_role("link", name="Studio-sklearn-1.9", exact=True).click()
    expect(page.get_by_role("heading", name="Studio-sklearn-1.9")).to_be_visible()
    expect(page.get_by_text("scikit-learn=1.9").first).to_be_visible()
    expect(page.get_by_role("button", name="Archive this version")).to_have_count(0)
    screenshot(page, "environments-curated-detail")

    page.get_by_role("link", name="Environments").first.click()
    page.get_by_role("link", name="Create").click()
    page.fill("#id_name", "tiny-six")
    page.fill("#id_description", "Six, <em>nothing else</em>")
    page.get_by_label("Image + conda file").check()
    page.fill("#id_image", settings.STUDIO_BASE_IMAGE)
    page.fill("#id_conda_file", "name: tiny\ndependencies:\n  - python=3.11\n  - pip:\n      - six==1.16.0\n")
    page.get_by_text("Environment variables and user-managed dependencies").click()
    # A build variable unique to this run: the Docker layer cache cannot answer, the build is real.
    page.fill("#id_environment_variables", f"PIP_STUDIO_E2E={uuid.uuid4().hex[:10]}\nOMP_NUM_THREADS=1")
    screenshot(page, "environments-create-form")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name="tiny-six")).to_be_visible()
    expect(page.get_by_text("Six, <em>nothing else</em>", exact=True)).to_be_visible()

    page.get_by_role("button", name="Build on docker").click()
    docker_engine.append(f"studio-env:{EnvironmentBuild.objects.get().spec_hash}")
    expect(page.locator("#build-log-poller")).to_be_attached()
    # Mark this document: if the log's lines show up while the mark is still there, they were
    # appended by the live tail, not by reloading the page once the build was over.
    page.evaluate("() => { window.__studioMark = 'live'; }")
    expect(page.locator("pre.log")).to_contain_text("Step 1/", timeout=30_000)
    assert page.evaluate("() => window.__studioMark") == "live"
    expect(page.locator(".build-summary").get_by_text("Running")).to_be_visible()
    screenshot(page, "environments-build-live")
    expect(page.locator(".build-summary").get_by_text("Succeeded")).to_be_visible(timeout=180_000)
    expect(page.get_by_role("heading", name="Resolved packages")).to_be_visible()
    expect(page.locator("ul.packages").get_by_text("six==1.16.0", exact=True)).to_be_visible()
    expect(page.locator("pre.log")).to_contain_text("Succeeded in")
    screenshot(page, "environments-build-done")
    build = EnvironmentBuild.objects.get()
    assert build.status == BuildStatus.SUCCEEDED and build.backend == "docker"
