"""In a real browser: submit a job from the form, watch its lines appear live, cancel another."""

from __future__ import annotations

import pytest

from jobs.models import Job, JobStatus
from tests.e2e.conftest import screenshot, sign_in
from tests.jobs.conftest import Node, make_environment, make_zip, wait_status

SLOW = (
    "import sys, time\n"
    "print('\\x1b[32mstarting\\x1b[0m')\n"
    "for i in range(int(sys.argv[1])):\n"
    "    print(f'line {i}', flush=True)\n"
    "    time.sleep(0.3)\n"
    "print('finished')\n"
)


@pytest.fixture
def node(monkeypatch):
    the_node = Node()
    monkeypatch.setattr("jobs.services.submit.send_run", the_node.send)
    yield the_node
    for job in Job.objects.exclude(status__in=[JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED]):
        from jobs import services

        services.do_cancel_job(job, actor=None)
    the_node.join(30)


def _submit_from_form(page, workspace, command: str, display_name: str) -> None:
    page.goto(f"/w/{workspace.name}/new/job/")
    page.check("input[name=code_source][value=zip]")
    page.set_input_files(
        "#id_code_zip",
        files=[{"name": "code.zip", "mimeType": "application/zip", "buffer": make_zip({"slow.py": SLOW}).getvalue()}],
    )
    page.fill("#id_command", command)
    page.select_option("#id_environment", "plain")
    page.fill("#id_display_name", display_name)
    page.click("[data-submit-job]")
    page.wait_for_url("**/outputs/")


def test_submit_watch_live_lines_and_cancel_another(page, live_server, workspace, owner, node, settings):
    settings.STUDIO_PUBLIC_URL = live_server.url
    make_environment(workspace, owner, "plain")
    sign_in(page, owner.username)

    _submit_from_form(page, workspace, "python slow.py 12", "Live lines")
    body = page.locator("[data-log-body]")
    body.get_by_text("line 2", exact=True).wait_for(timeout=30_000)
    job = Job.objects.get(display_name="Live lines")
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING, "the lines arrived while the job ran"
    assert page.locator("[data-log-state]").inner_text().startswith("●")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.fill("[data-log-search]", "line")  # the widest the toolbar gets: a match count beside the box
    middles = page.evaluate(
        "() => [...document.querySelector('.log-toolbar').children]"
        ".filter(c => c.offsetParent)"
        ".map(c => { const r = c.getBoundingClientRect(); return Math.round((r.top + r.bottom) / 2); })"
    )
    assert max(middles) - min(middles) <= 2, f"the log toolbar is one line at 1280 px: {middles}"
    page.fill("[data-log-search]", "")
    screenshot(page, "jobs-live-log")
    body.get_by_text("finished", exact=True).wait_for(timeout=30_000)
    page.locator("#job-head .status-completed").wait_for(timeout=15_000)
    assert body.locator("text=starting").first.evaluate("el => getComputedStyle(el).color") == "rgb(25, 136, 68)"

    _submit_from_form(page, workspace, "python slow.py 1000", "To be canceled")
    body.get_by_text("line 1", exact=True).wait_for(timeout=30_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-action=cancel]")
    page.locator("#job-head .status-canceled").wait_for(timeout=10_000)
    assert "Canceled by olivia" in page.locator(".failure").inner_text()
    second = wait_status(Job.objects.get(display_name="To be canceled"), JobStatus.CANCELED, timeout=5)
    assert second.canceled_by == owner
    screenshot(page, "jobs-canceled")


def test_back_to_the_form_after_a_refused_submit_shows_the_panels_of_the_restored_choices(
    page, live_server, transactional_db, workspace, owner
):
    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/new/job/")
    page.check("input[name=code_source][value=none]")
    page.fill("textarea[name=command]", "echo hi")
    page.fill("textarea[name=inputs]", "lr=0.1\nbroken line")
    page.click("button:has-text('Submit job')")
    page.wait_for_selector("[data-error-summary]")
    page.go_back()
    page.wait_for_load_state("load")
    assert page.is_checked("input[name=code_source][value=none]")
    # With no code chosen, no folder chooser: the restored radio and the panels agree.
    assert page.locator("[data-code-panel=folder]").is_hidden()
