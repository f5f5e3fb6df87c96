"""Browser habits every workspace page keeps: lists answer Back correctly, counts are true, a 403
keeps the layout and says in words what is missing, the top bar can switch workspaces."""

from tests.factories import make_workspace

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "member-rows"}


def test_a_filtered_list_varies_on_hx_request_so_back_never_shows_a_fragment(workspace, owner, login):
    client = login(owner)
    partial = client.get("/w/ws-main/members/?q=oli", **HTMX)
    full = client.get("/w/ws-main/members/?q=oli")
    assert "HX-Request" in partial["Vary"] and "HX-Request" in full["Vary"]
    assert b"<html" not in partial.content and b"<html" in full.content


def test_htmx_history_restore_gets_the_whole_page(workspace, owner, login):
    response = login(owner).get("/w/ws-main/jobs/?status=Running", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert b"<html" in response.content and b"sidenav" in response.content


def test_workspaces_list_counts_every_member_not_just_the_viewer(workspace, members, login):
    response = login(members["reader"]).get("/workspaces/")
    assert response.context["workspaces"][0].member_count == len(members)


def test_the_403_page_keeps_the_sidebar_and_names_the_action_in_words(workspace, members, login):
    response = login(members["reader"]).get("/w/ws-main/new/job/")
    assert response.status_code == 403
    body = response.content.decode()
    assert 'class="sidenav"' in body
    assert "does not allow you to submit jobs" in body and "jobs.submit" not in body


def test_switch_workspace_lists_my_other_workspaces_only(workspace, owner, outsider, login):
    mine = make_workspace(owner, "ws-second")
    body = login(owner).get("/w/ws-main/").content.decode()
    menu = body[body.index('class="ws-switch"') : body.index("All workspaces")]
    assert f"/w/{mine.name}/" in menu and "ws-other" not in menu and "ws-theirs" not in menu
