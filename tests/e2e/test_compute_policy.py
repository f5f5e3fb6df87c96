"""In the browser: a workspace Owner sees the shared local worker's nodes but no Drain or test-task
control, and the page says who manages it; Studio staff get the Drain button."""

from compute.models import ComputeTarget
from tests.compute.conftest import register
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, add_member


def test_only_staff_see_the_drain_button_of_the_shared_local_worker(page, workspace, owner):
    register(ComputeTarget.objects.get(workspace=workspace, name="local"), worker="local.1@machine")
    admin = UserFactory(username="ada", is_staff=True)
    add_member(workspace, admin, "reader", actor=owner)

    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/compute/local/")
    page.get_by_text("local.1@machine").wait_for()
    assert page.get_by_role("button", name="Drain").count() == 0
    assert page.get_by_role("button", name="Send a test task").count() == 0
    assert page.get_by_text("only a Studio administrator drains it").is_visible()
    screenshot(page, "compute-local-owner-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "compute-local-owner-390")

    page.context.clear_cookies()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, admin.username)
    page.goto(f"/w/{workspace.name}/compute/local/")
    assert page.get_by_role("button", name="Drain").is_visible()
