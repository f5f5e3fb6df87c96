"""In the browser: the top-bar search (type, arrow into the dropdown, Enter opens the asset; "/"
focuses it) and the toast that appears when one of my jobs ends while the page is open; also
the dark theme at desktop and phone widths (screenshots)."""

from __future__ import annotations

from jobs import services as job_services
from jobs.models import JobStatus
from jobs.runner.lifecycle import advance
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, make_workspace
from tests.jobs.conftest import make_environment


def test_search_from_the_top_bar_and_a_toast_when_my_job_ends(page, transactional_db, monkeypatch):
    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: None)
    owner = UserFactory(username="olivia")
    ws = make_workspace(owner, "team")
    make_environment(ws, owner, "churn-env")
    job = job_services.do_submit_job(
        ws, actor=owner, data={"command": "echo", "environment": "churn-env:1", "display_name": "churn baseline"}
    )
    page.set_default_timeout(30000)  # the shared test machine can be slow to serve the first page
    sign_in(page, "olivia")
    page.goto("/w/team/jobs/")

    page.keyboard.press("/")
    box = page.locator("[data-search] input[name=search]")
    assert page.evaluate("document.activeElement.name") == "search"
    box.type("churn")
    dropdown = page.locator("#search-dropdown")
    dropdown.get_by_text("churn-env").wait_for()
    assert dropdown.get_by_text("churn baseline").is_visible()
    screenshot(page, "search-dropdown-1440")
    page.keyboard.press("ArrowDown")
    assert "churn baseline" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Escape")
    assert dropdown.inner_html().strip() == ""

    advance(job.pk, JobStatus.QUEUED, JobStatus.CANCELED, "test")
    toast = page.locator("#toasts .toast")
    toast.wait_for(timeout=20000)
    assert "churn baseline" in toast.inner_text() and "canceled" in toast.inner_text()
    screenshot(page, "toast-1440")
    # It sits under the top bar, never over the bottom-right Submit button of a form.
    box, viewport = toast.bounding_box(), page.viewport_size
    assert box["y"] + box["height"] < viewport["height"] / 2, box
    page.reload()
    page.wait_for_timeout(500)
    assert page.locator("#toasts .toast").count() == 0, "an announced job is not announced again"

    page.emulate_media(color_scheme="dark")
    page.goto("/w/team/jobs/?archived=all")
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg != "rgb(245, 246, 248)", "the dark theme follows the system setting"
    screenshot(page, "jobs-dark-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "jobs-dark-390")
    page.goto("/w/team/search/?q=churn")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "search-dark-390")
    page.emulate_media(color_scheme="light")
    page.goto("/w/team/jobs/")
    screenshot(page, "jobs-light-390")
