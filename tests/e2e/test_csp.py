"""The Content-Security-Policy breaks nothing: the main pages load with no CSP violation and no
console error in a real browser, and the page scripts (htmx, studio.js, forms) still work."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jobs import services as job_services
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory, make_workspace
from tests.jobs.conftest import make_environment, make_zip

# Collects violations in the page itself; Playwright's init scripts are not subject to the policy.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


@pytest.fixture
def watched(page):
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    page.add_init_script(LISTEN)
    return page, errors


def test_main_pages_load_without_csp_violations(watched, transactional_db, monkeypatch):
    page, errors = watched
    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: None)
    owner = UserFactory(username="olivia")
    ws = make_workspace(owner, "csp-team")
    env = make_environment(ws, owner, "plain")
    snapshot = job_services.do_create_code_snapshot(ws, actor=owner, zip_file=make_zip({"a.py": "print(1)"}))
    job = job_services.do_submit_job(
        ws, actor=owner, data={"command": "python a.py", "environment": "plain:1"}, code=snapshot
    )
    sign_in(page, "olivia")
    w = "/w/csp-team/"
    pages = [
        "/workspaces/",
        "/account/tokens/",
        w,
        w + "members/",
        w + "roles/",
        w + "activity/",
        w + "settings/",
        w + "jobs/",
        w + "new/job/",
        f"{w}jobs/{job.name}/",
        f"{w}jobs/{job.name}/outputs/",
        f"{w}jobs/{job.name}/metrics/",
        w + "experiments/",
        w + "environments/",
        w + "environments/new/",
        f"{w}environments/{env.environment.name}/versions/1/",
        w + "compute/",
        w + "compute/new/",
        w + "datastores/",
        w + "datastores/new/",
        w + "datastores/workspaceblobstore/",
        w + "data/",
        w + "data/new/",
        w + "models/",
        w + "models/new/",
    ]
    for url in pages:
        response = page.goto(url)
        assert response.status < 400, url
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__csp")
        assert violations == [], f"{url}: {violations}"
        assert errors == [], url
    page.goto("/admin/")  # Django's admin: no violations (its favicon 404 is Django's)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__csp") == []


def test_page_scripts_still_work_under_the_policy(watched, transactional_db):
    """htmx (live search), studio.js (dialogs) and a moved form script run with the policy on."""
    page, errors = watched
    owner = UserFactory(username="olivia")
    make_workspace(owner, "csp-team")
    UserFactory(username="rita")
    sign_in(page, "olivia")
    page.goto("/w/csp-team/members/")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.goto("/w/csp-team/new/job/")
    page.select_option("select[name=experiment]", "__new__")
    expect(page.locator("[data-new-experiment]")).to_be_visible()
    page.goto("/w/csp-team/compute/")
    page.fill("input[name=q]", "nothing-matches")  # htmx swaps the rows in as one types
    expect(page.get_by_text("No compute matches")).to_be_visible()
    assert page.evaluate("window.__csp") == []
    assert errors == []
