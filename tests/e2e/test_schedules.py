"""In a real browser: schedule a job from the Schedules section (a cron and a job to copy), read
its next run times, pause it (the next runs go away), resume it; at desktop and phone widths."""

from __future__ import annotations

from playwright.sync_api import expect

from jobs import services as job_services
from schedules.models import Schedule
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, make_workspace
from tests.jobs.conftest import make_environment, no_dispatch  # noqa: F401 - submitted jobs stay queued


def test_create_a_schedule_see_its_next_runs_and_pause_it(page, transactional_db, no_dispatch):  # noqa: F811
    owner = UserFactory(username="sam")
    workspace = make_workspace(owner, "ws-sched")
    make_environment(workspace, owner, "plain")
    job_services.do_submit_job(
        workspace,
        actor=owner,
        data={
            "name": "train-iris",
            "command": "python train.py",
            "environment": "plain:1",
            "display_name": "Train iris",
        },
    )

    page.set_default_timeout(30_000)  # a busy CI machine: a page may take longer than the default
    sign_in(page, "sam")
    page.goto("/w/ws-sched/")
    page.click("nav.sidenav >> text=Schedules")
    page.click("text=New schedule")
    page.fill("#id_name", "weekday-mornings")
    page.select_option("#id_job", "train-iris")
    page.fill("#id_expression", "30 7 * * 1-5")
    page.fill("#id_time_zone", "Pacific Standard Time")
    page.click("button:has-text('Create schedule')")
    page.wait_for_url("**/schedules/weekday-mornings/")
    expect(page.locator("h1")).to_contain_text("weekday-mornings")
    expect(page.locator("[data-schedule-status]")).to_have_text("Enabled")
    runs = page.locator("[data-next-runs] time")
    expect(runs).to_have_count(5)
    assert "07:30" in runs.first.inner_text()
    expect(page.locator(".content")).to_contain_text("At 07:30 AM, Monday through Friday (America/Los_Angeles)")
    screenshot(page, "schedules-detail-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "schedules-detail-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("button:has-text('Pause')")
    expect(page.locator("[data-schedule-status]")).to_have_text("Paused")
    expect(page.locator("[data-next-runs]")).to_contain_text("none while paused")
    assert not Schedule.objects.get(name="weekday-mornings").periodic_task.enabled
    page.click("button:has-text('Resume')")
    expect(page.locator("[data-next-runs] time")).to_have_count(5)

    page.goto("/w/ws-sched/schedules/")
    expect(page.locator("table")).to_contain_text("weekday-mornings")
    screenshot(page, "schedules-list-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "schedules-list-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    page.goto("/w/ws-sched/schedules/new/")
    screenshot(page, "schedules-new-390")
