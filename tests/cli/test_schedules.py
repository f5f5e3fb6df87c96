"""`studio schedule …` with Azure ML schedule files: create_job naming a job file beside the
schedule (its code folder uploaded), list, show, pause, resume, delete; a bad trigger is reported
with the file and line."""

from __future__ import annotations

import json

from jobs.models import CodeSnapshot
from schedules.models import Schedule
from tests.cli.conftest import write
from tests.jobs.conftest import make_environment

JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: src
command: python main.py
environment: azureml:plain:1
compute: azureml:local
experiment_name: nightly
"""

SCHEDULE = """\
$schema: https://azuremlschemas.azureedge.net/latest/schedule.schema.json
name: nightly-train
display_name: Nightly training
trigger:
  type: cron
  expression: "0 2 * * *"
  time_zone: W. Europe Standard Time
create_job: ./train-job.yml
"""


def test_schedule_create_from_files_then_list_show_pause_resume_delete(cli, alice, alice_workspace):
    make_environment(alice_workspace, alice, "plain")
    write(cli.cwd, "src/main.py", "print('nightly')\n")
    write(cli.cwd, "train-job.yml", JOB)
    write(cli.cwd, "schedule.yml", SCHEDULE)
    result = cli("schedule", "create", "--file", "schedule.yml", "-o", "json")
    assert result.code == 0, result
    created = json.loads(result.out)
    assert created["time_zone"] == "Europe/Berlin" and len(created["next_run_times"]) == 5
    schedule = Schedule.objects.get(name="nightly-train")
    snapshot = CodeSnapshot.objects.get(workspace=alice_workspace, hash=schedule.job_spec["code"])
    assert snapshot.file_count == 1

    listing = cli("schedule", "list")
    assert listing.code == 0 and "nightly-train" in listing.out and "At 02:00" in listing.out, listing
    paused = cli("schedule", "disable", "nightly-train")
    assert paused.code == 0 and "nightly-train: paused" in paused.out + paused.err, paused
    shown = json.loads(cli("schedule", "show", "nightly-train", "-o", "json").out)
    assert shown["is_enabled"] is False and shown["next_run_times"] == []
    assert cli("schedule", "enable", "-n", "nightly-train").code == 0
    assert Schedule.objects.get(name="nightly-train").enabled
    assert cli("schedule", "delete", "nightly-train").code == 0
    assert not Schedule.objects.exists()


def test_a_bad_trigger_is_reported_with_the_file_and_line(cli, alice, alice_workspace):
    make_environment(alice_workspace, alice, "plain")
    write(cli.cwd, "src/main.py", "print('nightly')\n")
    write(cli.cwd, "train-job.yml", JOB)
    write(cli.cwd, "schedule.yml", SCHEDULE.replace('"0 2 * * *"', '"0 2 * *"'))
    result = cli("schedule", "create", "--file", "schedule.yml")
    assert result.code != 0
    last = result.err.strip().splitlines()[-1]
    assert "schedule.yml, line 6: trigger.expression" in last and "five fields" in last, last
    write(cli.cwd, "missing.yml", SCHEDULE.replace("./train-job.yml", "./no-such-job.yml"))
    result = cli("schedule", "create", "--file", "missing.yml")
    assert result.code != 0 and "missing.yml, line 8" in result.err and "no such file" in result.err, result
