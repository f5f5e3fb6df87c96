"""Pages read well on a phone (390 px) without losing what a desktop shows: the curated
environments table and the datastore list turn into small cards, a venv's long interpreter path
wraps, the home page's counts sit two a row; and the datastore form reports every problem of one
submit. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from environments import curated
from environments.models import BuildStatus, EnvironmentBuild, EnvironmentVersion
from tests.e2e.conftest import screenshot, sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
ROW_HEIGHTS = "sel => [...document.querySelectorAll(sel)].map(r => Math.round(r.getBoundingClientRect().height))"


@pytest.fixture(autouse=True)
def patient(page):
    """The first page a fresh test server renders can take seconds on a busy machine."""
    page.set_default_timeout(30_000)


def test_curated_environments_are_short_cards_on_a_phone_and_a_full_table_on_a_desktop(page, workspace, owner):
    curated.sync()
    sign_in(page, owner.username)
    url = f"/w/{workspace.name}/environments/?tab=curated"
    page.set_viewport_size(PHONE)
    page.goto(url)
    rows = page.locator("#environment-rows tbody tr")
    assert rows.count() >= 5
    heights = page.evaluate(ROW_HEIGHTS, "#environment-rows tbody tr")
    # Before: 250-300 px tall rows, tall because of a tags column off the screen, out of sight.
    assert max(heights) < 230, heights
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    first = rows.first
    for label in ("Version", "venv", "docker"):  # nothing is lost on the phone: each cell says what it is
        cell = first.locator(f'td[data-label="{label}"]')
        assert cell.is_visible(), label
        assert label in cell.evaluate("td => getComputedStyle(td, '::before').content"), label
    assert first.get_by_text("Framework").first.is_visible()
    box = first.locator(".env-tags").bounding_box()
    assert box and box["x"] + box["width"] <= 390, "tags wrap inside the card"
    screenshot(page, "phone-curated-environments-390")

    page.set_viewport_size(DESKTOP)
    page.goto(url)
    headers = page.locator("#environment-rows thead th")
    assert [h.strip() for h in headers.all_inner_texts()] == [
        "Name",
        "Latest",
        "Kind",
        "Tags",
        "venv",
        "docker",
        "Created",
    ]
    assert page.locator("#environment-rows thead").is_visible()
    assert not page.locator("#environment-rows td[data-label]").first.evaluate(
        "td => getComputedStyle(td, '::before').content.includes('Version')"
    ), "the phone's labels stay off the desktop table"


def test_a_long_interpreter_path_wraps_on_the_environment_page(page, workspace, owner):
    curated.sync()
    version = EnvironmentVersion.objects.filter(environment__name="Studio-minimal-py311").first()
    EnvironmentBuild.objects.create(
        workspace=workspace,
        version=version,
        backend="venv",
        spec_hash=version.spec_hash,
        status=BuildStatus.SUCCEEDED,
        python="/srv/studio/data/envs/venv/" + "a" * 64 + "/bin/python",
        requested_by=owner,
    )
    sign_in(page, owner.username)
    page.set_viewport_size(PHONE)
    page.goto(f"/w/{workspace.name}/environments/Studio-minimal-py311/")
    page.get_by_text("/bin/python").first.wait_for()
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    screenshot(page, "phone-environment-build-390")


def test_the_datastore_list_and_the_home_counts_fit_a_phone(page, workspace, owner):
    sign_in(page, owner.username)
    page.set_viewport_size(PHONE)
    page.goto(f"/w/{workspace.name}/datastores/")
    location = page.locator(".datastore-location").first
    box = location.bounding_box()
    assert box and box["x"] + box["width"] <= 390, "the location is on screen, on a line of its own"
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    screenshot(page, "phone-datastores-390")
    page.goto(f"/w/{workspace.name}/")
    tops = page.evaluate("() => [...document.querySelectorAll('.grid.cards .card')].map(c => c.offsetTop)")
    assert len(tops) >= 4 and tops[0] == tops[1], "two counts a row"
    search = page.locator(".top-search input").bounding_box()
    assert search and search["width"] > 120, "the search box is wide enough to read its placeholder"


def test_one_submit_of_the_datastore_form_shows_every_problem(page, workspace, owner):
    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/datastores/new/")
    page.get_by_label("Local / NFS folder").check()
    page.fill("#id_path", "/etc")
    page.get_by_role("button", name="Register datastore").click()
    page.locator(".has-error").first.wait_for()
    errors = page.locator(".field.has-error .error").all_inner_texts()
    assert any("required" in e for e in errors), errors  # the empty name: the form's own check
    assert any("administrator allowed" in e for e in errors), errors  # the folder, in the same round
    screenshot(page, "datastore-form-errors")


def test_a_jobs_status_is_on_screen_beside_a_long_display_name_on_a_phone(page, workspace, owner):
    from tests.e2e.test_first_hour import make_job

    job = make_job(workspace, owner, "long_titled_run")
    job.display_name = "Train a tiny model with a fairly long display name to see wrapping"
    job.save(update_fields=["display_name"])
    sign_in(page, owner.username)
    page.set_viewport_size(PHONE)
    page.goto(f"/w/{workspace.name}/jobs/")
    badge = page.locator("#job-rows tbody tr").first.locator("[data-status]").bounding_box()
    # Before: the display name stayed on one line and pushed Status off to the right.
    assert badge and badge["x"] + badge["width"] <= 390, badge
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    screenshot(page, "phone-jobs-390")


def test_a_token_can_be_revoked_on_a_phone_without_scrolling_sideways(page, workspace, owner):
    from studio.services import do_create_token

    do_create_token(user=owner, name="laptop CLI")
    sign_in(page, owner.username)
    page.set_viewport_size(PHONE)
    page.goto("/account/tokens/")
    revoke = page.get_by_role("button", name="Revoke").bounding_box()
    # Before: Revoke sat in the seventh column, off the screen.
    assert revoke and revoke["x"] + revoke["width"] <= 390, revoke
    assert page.locator('td[data-label="Last used"]').is_visible(), "nothing is lost: each cell says what it is"
