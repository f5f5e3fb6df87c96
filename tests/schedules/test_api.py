"""The schedules REST API: create from the Azure ML schedule YAML (JSON or YAML body), read with
next run times, pause/resume, change, delete; bad input answered with field and line; readers and
outsiders kept out."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from schedules.models import Schedule
from tests.conftest import token_client
from tests.schedules.conftest import cron_schedule

URL = "/api/v1/workspaces/ws-main/schedules/"

SCHEDULE_YAML = """\
$schema: https://azuremlschemas.azureedge.net/latest/schedule.schema.json
name: weekday-mornings
display_name: Weekday mornings
description: train before people arrive
tags:
  team: vision
trigger:
  type: recurrence
  frequency: week
  interval: 1
  schedule:
    hours: [7]
    minutes: [30]
    week_days: [monday, tuesday, wednesday, thursday, friday]
  time_zone: Pacific Standard Time
create_job:
  type: command
  command: echo hello
  environment: azureml:plain:1
  compute: azureml:local
  experiment_name: mornings
"""


@pytest.mark.django_db
def test_a_cron_schedule_copying_a_job_is_created_with_its_beat_entry_and_next_runs(workspace, owner, source_job):
    answer = token_client(owner).post(URL, cron_schedule(), format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["is_enabled"] is True
    assert body["create_job"] == "azureml:nightly-source"
    assert len(body["next_run_times"]) == 5
    assert body["trigger_description"].startswith("Every minute")
    schedule = Schedule.objects.get(workspace=workspace, name="every-minute")
    assert schedule.job_spec["command"] == "echo scheduled"
    assert schedule.job_spec["environment"] == "azureml:plain:1"
    task = schedule.periodic_task
    assert task.task == "schedules.tasks.fire_schedule" and task.enabled
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("*", "*", "UTC")


@pytest.mark.django_db
def test_a_yaml_schedule_with_an_inline_job_and_a_windows_time_zone(workspace, owner, plain_env):
    client = token_client(owner)
    answer = client.post(URL, SCHEDULE_YAML, content_type="application/yaml")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["time_zone"] == "America/Los_Angeles"
    assert body["create_job"]["command"] == "echo hello"
    first = body["next_run_times"][0]
    assert first.endswith("-08:00") or first.endswith("-07:00")
    assert "07:30:00" in first
    cron = Schedule.objects.get(name="weekday-mornings").periodic_task.crontab
    assert (cron.minute, cron.hour, cron.day_of_week) == ("30", "7", "1,2,3,4,5")


@pytest.mark.django_db
def test_pause_resume_change_and_delete(workspace, owner, source_job):
    client = token_client(owner)
    assert client.post(URL, cron_schedule(), format="json").status_code == 201
    paused = client.post(f"{URL}every-minute/disable/").json()
    assert paused["is_enabled"] is False and paused["next_run_times"] == []
    assert PeriodicTask.objects.get(name__startswith="studio-schedule-").enabled is False
    resumed = client.post(f"{URL}every-minute/enable/").json()
    assert resumed["is_enabled"] is True and resumed["next_run_times"]
    changed = client.patch(
        f"{URL}every-minute/", {"trigger": {"type": "cron", "expression": "15 3 * * *"}}, format="json"
    ).json()
    assert changed["trigger"]["expression"] == "15 3 * * *"
    assert Schedule.objects.get(name="every-minute").periodic_task.crontab.hour == "3"
    assert [s["name"] for s in client.get(URL).json()] == ["every-minute"]
    assert client.delete(f"{URL}every-minute/").status_code == 204
    assert (
        not Schedule.objects.exists() and not PeriodicTask.objects.filter(name__startswith="studio-schedule-").exists()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"trigger": {"type": "cron", "expression": "61 * * * *"}}, "trigger.expression", "minute field '61'"),
        ({"trigger": {"type": "cron", "expression": "every minute"}}, "trigger.expression", "five fields"),
        ({"trigger": {"type": "cron", "expression": "0 0 31 2 *"}}, "trigger.expression", "never occurs"),
        (
            {"trigger": {"type": "cron", "expression": "* * * * *", "time_zone": "Mars/Olympus"}},
            "trigger.time_zone",
            "unknown time zone 'Mars/Olympus'",
        ),
        ({"trigger": {"type": "recurrence", "frequency": "day"}}, "trigger.interval", "needs an interval"),
        ({"trigger": {"type": "recurrence", "frequency": "fortnight", "interval": 1}}, "trigger.frequency", "minute"),
        ({"trigger": {"type": "hourly"}}, "trigger.type", "cron or recurrence"),
        ({"create_job": "azureml:no-such-job"}, "create_job", "no job 'no-such-job'"),
        ({"create_job": "./job.yml"}, "create_job", "the studio CLI reads job files"),
        ({"name": "../etc"}, "name", "letters, digits"),
        ({"trigers": {}}, "spec", "unknown key 'trigers'. Did you mean 'trigger'?"),
        (
            {"trigger": {"type": "cron", "expresion": "* * * * *"}},
            "trigger",
            "unknown key 'expresion'. Did you mean 'expression'?",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(workspace, owner, source_job, change, field, words):
    answer = token_client(owner).post(URL, cron_schedule() | change, format="json")
    assert answer.status_code == 400, answer.json()
    errors = answer.json()["errors"]
    assert field in errors, errors
    assert words in " ".join(errors[field])


@pytest.mark.django_db
def test_yaml_errors_name_the_line(workspace, owner, plain_env):
    text = SCHEDULE_YAML.replace("  interval: 1\n", "").replace("weekday-mornings", "no-interval")
    answer = token_client(owner).post(URL, text, content_type="application/yaml")
    assert answer.status_code == 400
    assert "line 9:" in answer.json()["errors"]["trigger.interval"][0]  # the frequency key's line
    bad_zone = SCHEDULE_YAML.replace("Pacific Standard Time", "Atlantis/Central")
    answer = token_client(owner).post(URL, bad_zone, content_type="application/yaml")
    assert "line 15:" in answer.json()["errors"]["trigger.time_zone"][0]


@pytest.mark.django_db
def test_an_inline_job_with_a_missing_environment_or_compute_is_refused(workspace, owner, plain_env):
    body = cron_schedule(job={"command": "echo hi", "environment": "azureml:nope:1", "compute": "azureml:gpu-cluster"})
    errors = token_client(owner).post(URL, body, format="json").json()["errors"]
    assert "create_job.environment" in errors and "create_job.compute" in errors


@pytest.mark.django_db
def test_a_duplicate_name_is_a_409(workspace, owner, source_job):
    client = token_client(owner)
    assert client.post(URL, cron_schedule(), format="json").status_code == 201
    assert client.post(URL, cron_schedule(), format="json").status_code == 409


@pytest.mark.django_db
def test_readers_see_but_cannot_change_and_outsiders_get_404(workspace, owner, members, outsider, source_job):
    owner_client = token_client(owner)
    assert owner_client.post(URL, cron_schedule(), format="json").status_code == 201
    reader = token_client(members["reader"])
    assert reader.get(f"{URL}every-minute/").status_code == 200
    assert reader.post(URL, cron_schedule("mine"), format="json").status_code == 403
    for verb in ("disable", "enable"):
        assert reader.post(f"{URL}every-minute/{verb}/").status_code == 403
    assert reader.patch(f"{URL}every-minute/", {"description": "x"}, format="json").status_code == 403
    assert reader.delete(f"{URL}every-minute/").status_code == 403
    stranger = token_client(outsider)
    assert stranger.get(f"{URL}every-minute/").status_code == 404
    assert stranger.post(f"{URL}every-minute/disable/").status_code == 404
    assert stranger.get(URL).status_code == 404
    assert Schedule.objects.get(name="every-minute").enabled


@pytest.mark.django_db
def test_a_schedule_cannot_copy_a_job_of_another_workspace(workspace, owner, outsider, source_job):
    """The outsider names a job of ws-main from their own workspace: not found there."""
    answer = token_client(outsider).post(
        "/api/v1/workspaces/ws-other/schedules/", cron_schedule(job="azureml:nightly-source"), format="json"
    )
    assert answer.status_code == 400
    assert "no job 'nightly-source' in workspace 'ws-other'" in answer.json()["errors"]["create_job"][0]


@pytest.mark.django_db
def test_a_schedule_of_another_workspace_cannot_be_reached_through_mine(workspace, owner, outsider, source_job):
    assert token_client(owner).post(URL, cron_schedule(), format="json").status_code == 201
    stranger = token_client(outsider)
    for method, path in (("get", ""), ("post", "disable/"), ("delete", "")):
        answer = getattr(stranger, method)(f"/api/v1/workspaces/ws-other/schedules/every-minute/{path}")
        assert answer.status_code == 404


@pytest.mark.django_db
def test_deleting_the_workspace_takes_its_schedules_and_their_beat_entries(workspace, owner, source_job):
    from studio.services import do_delete_workspace

    assert token_client(owner).post(URL, cron_schedule(), format="json").status_code == 201
    found = do_delete_workspace(workspace, actor=owner, confirm="ws-main")
    assert found.get("schedules") == 1
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="studio-schedule-").exists()
