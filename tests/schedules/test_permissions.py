"""Schedules under every built-in role, on pages and the API: managing one takes `jobs.submit`
(a schedule submits jobs), seeing one `workspace.view`; outsiders get 404. The expectations come
from the written-out permission table."""

from __future__ import annotations

import pytest

from schedules import services
from schedules.models import Schedule
from tests.conftest import ROLES, token_client
from tests.schedules.conftest import cron_schedule
from tests.studio.test_permission_matrix import EXPECTED

API = "/api/v1/workspaces/ws-main/schedules/"
PAGES = "/w/ws-main/schedules/"


@pytest.fixture
def schedule(workspace, owner, source_job):
    return services.do_create_schedule(workspace, cron_schedule(), actor=owner)


def may_submit(role: str) -> bool:
    return "jobs.submit" in EXPECTED[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_api_follows_the_table(role, members, schedule):
    client = token_client(members[role])
    assert client.get(API).status_code == 200
    assert client.get(f"{API}every-minute/").status_code == 200
    answers = [
        client.post(f"{API}every-minute/disable/").status_code,
        client.post(f"{API}every-minute/enable/").status_code,
        client.patch(f"{API}every-minute/", {"description": "changed"}, format="json").status_code,
        client.post(API, cron_schedule("second"), format="json").status_code,
        client.delete(f"{API}second/").status_code,
    ]
    assert answers == ([200, 200, 200, 201, 204] if may_submit(role) else [403] * 5)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_pages_follow_the_table(role, members, schedule, client):
    client.force_login(members[role])
    assert client.get(PAGES).status_code == 200
    page = client.get(f"{PAGES}every-minute/")
    assert page.status_code == 200
    assert (b">Pause</button>" in page.content) == may_submit(role), "a control the user may not use is not drawn"
    pause = client.post(f"{PAGES}every-minute/disable/")
    new = client.post(
        f"{PAGES}new/", {"name": "by-form", "expression": "0 * * * *", "time_zone": "UTC", "job": "nightly-source"}
    )
    if may_submit(role):
        assert (pause.status_code, new.status_code) == (302, 302)
        assert (
            not Schedule.objects.get(name="every-minute").enabled and Schedule.objects.filter(name="by-form").exists()
        )
    else:
        assert (pause.status_code, new.status_code) == (403, 403)
        assert client.get(f"{PAGES}new/").status_code == 403
        assert Schedule.objects.get(name="every-minute").enabled


@pytest.mark.django_db
def test_outsiders_get_404_on_every_schedule_page(outsider, schedule, client):
    client.force_login(outsider)
    for url in ("", "every-minute/", "new/", "new/yaml/"):
        assert client.get(f"{PAGES}{url}").status_code == 404
    for verb in ("disable", "enable", "delete"):
        assert client.post(f"{PAGES}every-minute/{verb}/").status_code == 404
    assert Schedule.objects.get(name="every-minute").enabled


@pytest.mark.django_db
def test_a_schedule_is_not_reachable_through_another_workspace_url(owner, outsider, schedule, client):
    """The outsider's own workspace does not resolve ws-main's schedule by name."""
    client.force_login(outsider)
    for verb in ("disable", "delete"):
        assert client.post(f"/w/ws-other/schedules/every-minute/{verb}/").status_code == 404
    assert client.get("/w/ws-other/schedules/every-minute/").status_code == 404
