"""Sign in, create a workspace, add a Reader, and see that the Reader gets no write buttons."""

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.factories import PASSWORD, UserFactory


def test_owner_creates_a_workspace_and_a_reader_sees_no_write_buttons(page, transactional_db):
    UserFactory(username="olivia")
    UserFactory(username="rita")

    sign_in(page, "olivia")
    expect(page.get_by_text("You are not in any workspace yet")).to_be_visible()
    page.get_by_role("link", name="Create a workspace").click()
    page.fill("#id_name", "vision-team")
    page.fill("#id_description", "Image models <script>alert(1)</script>")
    page.fill("#id_tags", "team=vision")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("heading", name="vision-team")).to_be_visible()
    expect(page.get_by_text("Image models <script>alert(1)</script>")).to_be_visible()
    screenshot(page, "foundation-workspace-home")

    page.get_by_role("link", name="Members").first.click()
    page.get_by_role("button", name="Add member").click()
    page.fill("#id_username", "rita")
    page.select_option("#id_role", "reader")
    page.get_by_role("dialog").get_by_role("button", name="Add member").click()
    expect(page.get_by_text("rita added as Reader.")).to_be_visible()
    expect(page.get_by_role("combobox", name="Role of rita")).to_have_value("reader")
    screenshot(page, "foundation-members")

    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    sign_in(page, "rita", PASSWORD)
    expect(page.get_by_role("heading", name="vision-team")).to_be_visible()
    expect(page.get_by_text("Your role:")).to_contain_text("Reader")
    page.get_by_role("link", name="Members").first.click()
    expect(page.locator("table").get_by_text("rita", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(page.get_by_role("combobox", name="Role of olivia")).to_have_count(0)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete workspace…")).to_have_count(0)
    screenshot(page, "foundation-reader-settings")

    # A forged request is refused anyway.
    status = page.evaluate(
        """async () => {
            const csrf = document.cookie.split('; ').find(c => c.startsWith('csrftoken=')).split('=')[1];
            const r = await fetch('/w/vision-team/settings/', {method: 'POST', headers: {'X-CSRFToken': csrf,
                'Content-Type': 'application/x-www-form-urlencoded'}, body: 'description=hacked'});
            return r.status;
        }"""
    )
    assert status == 403
