"""Schedules attacked as a hostile member: another workspace's job to copy, someone else's
schedule made to run their own job under its creator's name, a creator removed from the
workspace, and bad input on the API and the pages. Fast: nothing runs (no dispatch)."""

from __future__ import annotations

import pytest

from jobs.models import Job
from schedules import services
from schedules.models import Schedule, ScheduleRun
from studio import services as studio_services
from studio.models import Membership
from tests.conftest import token_client
from tests.jobs.conftest import make_environment, no_dispatch  # noqa: F401 - fixtures
from tests.schedules.conftest import cron_schedule, source_job  # noqa: F401 - fixtures

API = "/api/v1/workspaces/ws-main/schedules/"


@pytest.fixture
def schedule(workspace, owner, source_job):  # noqa: F811 - the imported fixture
    return services.do_create_schedule(workspace, cron_schedule(), actor=owner)


@pytest.mark.django_db
def test_a_job_of_another_workspace_cannot_be_copied(owner, outsider, workspace, source_job, no_dispatch):  # noqa: F811
    """The outsider names ws-main's job (plain and as an azureml:…/jobs/ id) from their own workspace."""
    client = token_client(outsider)
    for ref in ("azureml:nightly-source", "azureml:/subscriptions/x/workspaces/ws-main/jobs/nightly-source"):
        answer = client.post("/api/v1/workspaces/ws-other/schedules/", cron_schedule("steal", job=ref), format="json")
        assert answer.status_code == 400, answer.content
        assert "no job 'nightly-source' in workspace 'ws-other'" in answer.content.decode()
    # and ws-main's schedules answer 404 to them, never 403 (nothing to learn)
    assert client.get(API).status_code == 404
    assert client.post(API, cron_schedule("mine"), format="json").status_code == 404
    assert not Schedule.objects.filter(workspace__name="ws-other").exists()


@pytest.mark.django_db
def test_a_member_cannot_make_someone_elses_schedule_submit_their_job(
    workspace,
    owner,
    members,
    schedule,
    no_dispatch,  # noqa: F811
):
    """A schedule submits as its creator: another member who may submit jobs (but, say, not write
    to datastores) must not swap in a job of their own that then runs with the creator's rights."""
    scientist = token_client(members["data_scientist"])
    planted = {
        "command": "echo planted",
        "environment": "azureml:plain:1",
        "compute": "local",
        "outputs": {"o": {"type": "uri_folder", "path": "azureml://datastores/workspaceblobstore/paths/shared/"}},
    }
    answer = scientist.patch(f"{API}every-minute/", {"create_job": planted}, format="json")
    assert answer.status_code == 403, answer.content
    assert "olivia" in answer.json()["detail"]
    schedule.refresh_from_db()
    assert schedule.create_job == "azureml:nightly-source" and "planted" not in str(schedule.job_spec)
    # What is not the job stays open to every member who may submit, and the creator may change the job.
    assert scientist.patch(f"{API}every-minute/", {"description": "nightly"}, format="json").status_code == 200
    mine = token_client(owner).patch(
        f"{API}every-minute/", {"create_job": {k: v for k, v in planted.items() if k != "outputs"}}, format="json"
    )
    assert mine.status_code == 200, mine.content


@pytest.mark.django_db
def test_a_creator_removed_from_the_workspace_fires_nothing(workspace, owner, members, no_dispatch, source_job):  # noqa: F811
    scientist = members["data_scientist"]
    schedule = services.do_create_schedule(workspace, cron_schedule(), actor=scientist)
    studio_services.do_remove_member(Membership.objects.get(workspace=workspace, user=scientist), actor=owner)
    before = Job.objects.count()
    run = services.fire_schedule(schedule.pk)
    assert run is not None and run.job is None and "may no longer submit jobs" in run.error
    # deactivated, too
    scientist.is_active = False
    scientist.save()
    run = services.fire_schedule(schedule.pk)
    assert run is not None and run.job is None and "deactivated" in run.error
    assert Job.objects.count() == before


@pytest.mark.django_db
def test_a_refusal_longer_than_the_error_column_is_still_recorded(workspace, owner, schedule, no_dispatch):  # noqa: F811
    """A job refused with a very long message (here an unknown environment with a long name) is
    recorded, cut short, not a crash of the firing."""
    long_env = "azureml:" + "e" * 900 + ":1"
    Schedule.objects.filter(pk=schedule.pk).update(
        job_spec=schedule.job_spec | {"environment": long_env, "compute": "c" * 400}
    )
    run = services.fire_schedule(schedule.pk)
    assert run is not None and run.job is None and run.error.startswith("the job was refused")
    assert ScheduleRun.objects.filter(pk=run.pk).exists()


BAD_BODIES = [
    ("not json", "application/json"),
    ("[1, 2]", "application/json"),
    ('"a string"', "application/json"),
    ("", "application/json"),
    ("{}", "application/json"),
]


BAD_SCHEDULES = [
    {"trigger": {"type": "cron", "expression": "61 * * * *"}},
    {"trigger": {"type": "cron", "expression": "* * * *"}},
    {"trigger": {"type": "cron", "expression": "0 0 31 2 *"}},
    {"trigger": {"type": "cron", "expression": ["*"] * 5}},
    {"trigger": {"type": "cron", "expression": "* * * * *", "time_zone": "Mars/Olympus"}},
    {"trigger": {"type": "cron", "expression": "* * * * *", "time_zone": 5}},
    {"trigger": {"type": "cron", "expression": "* * * * *", "start_time": "yesterday"}},
    {"trigger": {"type": "cron", "expression": "* * * * *", "start_time": 12}},
    {"trigger": {"type": "cron", "expression": "* * * * *", "surprise": 1}},
    {"trigger": {"type": "recurrence", "frequency": "minute", "interval": 10**30}},
    {"trigger": {"type": "recurrence", "frequency": "minute", "interval": 0}},
    {"trigger": {"type": "recurrence", "frequency": "minute", "interval": "1"}},
    {"trigger": {"type": "recurrence", "frequency": "day", "interval": 1, "schedule": {"hours": [99]}}},
    {"trigger": {"type": "recurrence", "frequency": "week", "interval": 1, "schedule": {"week_days": ["funday"]}}},
    {"trigger": {"type": "recurrence", "frequency": "fortnight", "interval": 1}},
    {"trigger": "every minute"},
    {"name": "../../etc"},
    {"name": "x" * 5000},
    {"name": 42},
    {"display_name": "d" * 300},
    {"description": ["not", "text"]},
    {"create_job": "azureml:no-such-job"},
    {"create_job": "./local/job.yml"},
    {"create_job": 7},
    {"create_job": {"type": "automl"}},
    {"create_job": {"command": "echo", "environment": "azureml:plain:1", "compute": "local", "code": "../.."}},
    {"create_job": {"command": "echo", "environment": "azureml:plain:1", "compute": "local", "code": "0" * 64}},
    {"unknown_key": True},
]


@pytest.mark.django_db
def test_bad_bodies_and_schedules_get_a_clear_400(owner, workspace, source_job, no_dispatch):  # noqa: F811
    client = token_client(owner)
    for body, content_type in BAD_BODIES:
        answer = client.generic("POST", API, body, content_type=content_type)
        assert answer.status_code == 400 and answer.json(), (body, answer.content)
    for change in BAD_SCHEDULES:
        answer = client.post(API, cron_schedule() | change, format="json")
        assert answer.status_code == 400 and answer.json(), (change, answer.status_code, answer.content[:300])
    assert not Schedule.objects.exists()
    # the same on a change of an existing schedule
    services.do_create_schedule(workspace, cron_schedule(), actor=owner)
    for change in [c for c in BAD_SCHEDULES if "name" not in c]:
        answer = client.patch(f"{API}every-minute/", change, format="json")
        assert answer.status_code == 400 and answer.json(), (change, answer.status_code, answer.content[:300])
    for body, _ in BAD_BODIES[:3]:
        answer = client.generic("PATCH", f"{API}every-minute/", body, content_type="application/json")
        assert answer.status_code == 400, (body, answer.content)


@pytest.mark.django_db
def test_bad_form_and_yaml_input_on_the_pages(client, owner, workspace, source_job, no_dispatch):  # noqa: F811
    client.force_login(owner)
    base = "/w/ws-main/schedules/new/"
    for fields in (
        {"name": "a", "expression": "nonsense", "time_zone": "UTC", "job": "nightly-source"},
        {"name": "b", "expression": "* * * * *", "time_zone": "Nowhere/Land", "job": "nightly-source"},
        {"name": "c", "expression": "* * * * *", "time_zone": "UTC", "job": "not-a-job"},
        {},
    ):
        answer = client.post(base, fields)
        assert answer.status_code == 200 and b"errorlist" in answer.content or b"error" in answer.content, fields
    for text in ("name: [unclosed", "- a\n- list", "name: x\ntrigger: 5\ncreate_job: azureml:nightly-source", "\0"):
        answer = client.post(base + "yaml/", {"yaml_text": text})
        assert answer.status_code in (200, 400), answer.status_code
    assert not Schedule.objects.exists()
