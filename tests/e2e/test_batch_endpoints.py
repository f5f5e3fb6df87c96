"""Batch endpoint pages in a real browser: a finished batch scoring job (run on the real runner)
reached from the jobs list shows its mini-batch progress and the predictions file; the endpoint
pages list it. Desktop and phone widths."""

from __future__ import annotations

from jobs.models import Job, JobStatus
from tests.e2e.conftest import screenshot, sign_in
from tests.endpoints.conftest import scorer_parts
from tests.endpoints.test_batch import FILES, _data_asset
from tests.jobs.conftest import node, wait_status  # noqa: F401 - the in-process node fixture


def test_a_batch_job_page_shows_mini_batch_progress_and_the_predictions(page, node, workspace, owner):  # noqa: F811
    from endpoints.batch import services

    common = scorer_parts(workspace, owner)
    endpoint = services.do_create_batch_endpoint(workspace, {"name": "doubler-batch"}, actor=owner)
    settings = {"mini_batch_size": 2}
    services.do_create_batch_deployment(
        endpoint, {"name": "blue", **common, "resources": {"instance_count": 2}, "settings": settings}, actor=owner
    )
    job = services.do_invoke_batch_endpoint(
        endpoint, {"input": _data_asset(workspace, owner, "four", FILES)}, actor=owner
    )
    job = wait_status(Job.objects.get(pk=job.pk), (JobStatus.COMPLETED, JobStatus.FAILED), 240)
    assert job.status == JobStatus.COMPLETED, job.failure_reason

    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/jobs/{job.name}/")  # the job page sends a batch job to its own page
    page.wait_for_url(f"**/batch-jobs/{job.name}/")
    assert page.locator("[data-progress]").inner_text() == "2 of 2 done"
    assert page.locator("[data-output]").inner_text() == "score/predictions.csv"
    assert page.locator("table tbody tr").count() == 2
    screenshot(page, "batch-job-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "batch-job-phone")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/w/{workspace.name}/batch-endpoints/")
    page.get_by_role("link", name="doubler-batch").click()
    page.wait_for_url("**/batch-endpoints/doubler-batch/")
    assert page.locator("[data-progress]").first.inner_text().startswith("2 / 2")
    screenshot(page, "batch-endpoint-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "batch-endpoint-phone")
