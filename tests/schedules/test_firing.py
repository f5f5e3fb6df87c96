"""A schedule fires through real parts: django-celery-beat's DatabaseScheduler reads the schedule's
PeriodicTask and sends `fire_schedule` over the Redis broker, a real Celery worker process runs it,
and the job is submitted through the normal path as the schedule's creator.

The first test drives the scheduler's own decision (entry loaded from the database, `is_due`,
`apply_entry`, last run saved) in this process, and lets a minute pass by moving the entry's last
run a minute back instead of sleeping; it then runs `celery -A studio beat` itself for a recurrence."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from jobs.models import Job
from jobs.services import do_submit_job
from schedules import services
from schedules.models import Schedule, ScheduleRun
from studio import services as studio_services
from studio.celery import app
from studio.models import ActivityEvent, Membership
from tests.compute.conftest import purged, wait_for, worker_env, workers  # noqa: F401 - fixtures
from tests.conftest import token_client
from tests.jobs.conftest import make_environment
from tests.schedules.conftest import cron_schedule

URL = "/api/v1/workspaces/ws-main/schedules/"


def copy_source(workspace, owner):
    make_environment(workspace, owner, "plain")
    return do_submit_job(
        workspace,
        actor=owner,
        data={"name": "nightly-source", "command": "echo scheduled", "environment": "plain:1", "compute": "local"},
    )


def a_minute_passes(schedule: Schedule) -> None:
    """Beat remembers when it last sent an entry: move that a minute back."""
    PeriodicTask.objects.filter(pk=schedule.periodic_task_id).update(last_run_at=timezone.now() - timedelta(seconds=61))


def beat_pass(scheduler: DatabaseScheduler) -> list[str]:
    """What one tick of beat does for the schedules' entries: load the enabled entries from the
    database, send each that is due to the broker, and save its last run."""
    sent = []
    for name, entry in scheduler.all_as_schedule().items():
        if not name.startswith("studio-schedule-"):
            continue
        due, _ = entry.is_due()
        if due:
            scheduler.apply_entry(entry, producer=scheduler.producer)
            next(entry).save()
            sent.append(name)
    return sent


def scheduled_jobs(schedule: Schedule):
    return Job.objects.filter(tags__contains={services.SCHEDULE_TAG: schedule.name}).order_by("created_at")


def test_a_one_minute_cron_fires_twice_through_beat_and_a_worker_then_pauses(workers, workspace, owner):  # noqa: F811
    copy_source(workspace, owner)
    client = token_client(owner)
    with purged("studio", "local"):
        worker = workers.run(
            [sys.executable, "-m", "celery", "-A", "studio", "worker", "-Q", "studio", "-c", "1", "-l", "INFO"]
        )
        assert client.post(URL, cron_schedule(), format="json").status_code == 201
        schedule = Schedule.objects.get(name="every-minute")
        scheduler = DatabaseScheduler(app=app)

        for count in (1, 2):
            a_minute_passes(schedule)
            assert beat_pass(scheduler) == [schedule.periodic_task.name]
            wait_for(lambda c=count: scheduled_jobs(schedule).count() == c, 90, what=f"job {count}")
        jobs = list(scheduled_jobs(schedule))
        assert all(job.created_by == owner and job.command == "echo scheduled" for job in jobs)
        assert all(job.source == "schedule" for job in jobs)
        runs = ScheduleRun.objects.filter(schedule=schedule).order_by("fired_at")
        assert [run.job for run in runs] == jobs and not any(run.error for run in runs)
        assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).total_run_count == 2

        assert client.post(f"{URL}every-minute/disable/").json()["is_enabled"] is False
        a_minute_passes(schedule)
        assert beat_pass(scheduler) == [], "a paused schedule is not loaded by beat"
        # A firing already sent before the pause reaches the worker: it submits nothing.
        app.send_task(services.FIRE_TASK, args=[schedule.pk], queue="studio")
        wait_for(lambda: "'skipped'" in workers.log(worker), 60, what="the late firing to be skipped")
        assert scheduled_jobs(schedule).count() == 2
        page = client.get(f"{URL}every-minute/").json()
        assert [j["job_name"] for j in page["jobs"]] == [job.name for job in reversed(jobs)]

        # `celery -A studio beat` itself (Procfile, compose), with the DatabaseScheduler from
        # settings: a recurrence whose start has passed is sent as soon as beat starts.
        start = (timezone.now() - timedelta(minutes=5)).isoformat()
        body = cron_schedule("each-minute") | {
            "trigger": {"type": "recurrence", "frequency": "minute", "interval": 1, "start_time": start}
        }
        assert client.post(URL, body, format="json").status_code == 201
        recurring = Schedule.objects.get(name="each-minute")
        beat = workers.run([sys.executable, "-m", "celery", "-A", "studio", "beat", "--loglevel", "INFO"])
        wait_for(lambda: scheduled_jobs(recurring).exists(), 60, what=f"beat's firing: {workers.log(beat)}")
        workers.stop(beat)
        assert scheduled_jobs(schedule).count() == 2, "the paused schedule stayed paused under beat"
    assert "DatabaseScheduler" in workers.log(beat)
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {"purge-old-tokens", "compute-autoscale", "sweeps-check-trials"} <= names, "settings' tasks kept"


@pytest.mark.django_db
def test_a_creator_who_lost_the_right_to_submit_fires_nothing_and_the_schedule_says_why(
    workspace, owner, members, no_dispatch
):
    scientist = members["data_scientist"]
    copy_source(workspace, owner)
    schedule = services.do_create_schedule(workspace, cron_schedule(), actor=scientist)
    run = services.fire_schedule(schedule.pk)
    assert run is not None and run.job is not None and run.job.created_by == scientist

    membership = Membership.objects.get(workspace=workspace, user=scientist)
    studio_services.do_change_member_role(
        membership, role=studio_services.resolve_role(workspace, "reader"), actor=owner
    )
    run = services.fire_schedule(schedule.pk)
    assert run is not None and run.job is None
    assert "may no longer submit jobs" in run.error
    schedule.refresh_from_db()
    assert "datascientist_user may no longer submit jobs" in schedule.problem
    assert ActivityEvent.objects.filter(verb="schedule.refused", target="every-minute").exists()
    assert Job.objects.filter(created_by=scientist).count() == 1
    page = token_client(owner).get(f"{URL}every-minute/").json()
    assert page["problem"] and page["jobs"][0]["error"]


@pytest.mark.django_db
def test_a_job_the_submission_path_refuses_is_recorded_not_raised(workspace, owner, no_dispatch):
    copy_source(workspace, owner)
    schedule = services.do_create_schedule(workspace, cron_schedule(), actor=owner)
    # Its environment was deleted since the schedule was made.
    Schedule.objects.filter(pk=schedule.pk).update(job_spec=schedule.job_spec | {"environment": "azureml:gone:1"})
    run = services.fire_schedule(schedule.pk)
    assert run is not None and run.job is None
    assert run.error.startswith("the job was refused: environment:"), run.error


@pytest.mark.django_db
def test_a_message_delivered_twice_submits_one_job(workspace, owner, no_dispatch):
    """acks_late: a worker that died after committing leaves its message to be delivered again."""
    copy_source(workspace, owner)
    schedule = services.do_create_schedule(workspace, cron_schedule(), actor=owner)
    first = services.fire_schedule(schedule.pk, task_id="message-1")
    assert first is not None and first.job is not None
    assert services.fire_schedule(schedule.pk, task_id="message-1") is None
    assert services.fire_schedule(schedule.pk, task_id="message-2") is not None
    assert scheduled_jobs(schedule).count() == 2


@pytest.mark.django_db
def test_a_schedule_submits_a_sweep_job_through_the_sweep_handler(workspace, owner, no_dispatch):
    from sweeps import engine

    engine.forget()
    make_environment(workspace, owner, "plain")
    sweep = {
        "type": "sweep",
        "experiment_name": "tuning",
        "trial": {"command": "echo ${{search_space.lr}}", "environment": "azureml:plain:1"},
        "search_space": {"lr": {"type": "uniform", "min_value": 0.1, "max_value": 0.5}},
        "objective": {"primary_metric": "acc", "goal": "maximize"},
        "sampling_algorithm": "random",
        "limits": {"max_total_trials": 2, "max_concurrent_trials": 1},
    }
    schedule = services.do_create_schedule(workspace, cron_schedule(job=sweep), actor=owner)
    assert schedule.job_type == "sweep"
    run = services.fire_schedule(schedule.pk)
    engine.forget()
    assert run is not None and run.job is not None, run and run.error
    assert run.job.type == "sweep" and run.job.children.count() == 2, "one running, the next ready"
    assert run.job.tags[services.SCHEDULE_TAG] == "every-minute"
    bad = cron_schedule("bad-sweep", job=sweep | {"objective": {"primary_metric": "acc", "goal": "up"}})
    with pytest.raises(ValidationError) as refused:
        services.do_create_schedule(workspace, bad, actor=owner)
    assert "objective" in str(refused.value)


@pytest.mark.django_db
def test_a_schedule_submits_a_pipeline_job_through_the_pipeline_handler(workspace, owner, no_dispatch):
    make_environment(workspace, owner, "plain")
    pipeline = {
        "type": "pipeline",
        "experiment_name": "nightly",
        "settings": {"default_compute": "azureml:local"},
        "jobs": {
            "only": {
                "type": "command",
                "environment": "azureml:plain:1",
                "command": "echo one > ${{outputs.o}}/x",
                "outputs": {"o": {"type": "uri_folder"}},
            }
        },
    }
    schedule = services.do_create_schedule(workspace, cron_schedule(job=pipeline), actor=owner)
    assert schedule.job_type == "pipeline"
    run = services.fire_schedule(schedule.pk)
    assert run is not None and run.job is not None, run and run.error
    assert run.job.type == "pipeline" and run.job.created_by == owner
    assert run.job.tags[services.SCHEDULE_TAG] == "every-minute"


BROKEN_PIPELINE_SCHEDULE = """\
name: broken-pipeline
trigger: {type: cron, expression: "0 2 * * *"}
create_job:
  type: pipeline
  settings: {default_compute: azureml:local}
  jobs:
    make:
      component:
        name: maker
        type: command
        outputs: {out: {type: uri_folder}}
        environment: azureml:plain:1
        command: echo hi > ${{outputs.out}}/x
    use:
      type: command
      environment: azureml:plain:1
      command: cat ${{inputs.data}}/x
      inputs:
        data: ${{parent.jobs.make.outputs.model}}
"""


@pytest.mark.django_db
def test_a_broken_pipeline_schedule_is_refused_when_it_is_made_and_registers_nothing(workspace, owner):
    """The pipeline handler's `validate` (jobs.children) runs when the schedule is made: a binding
    to a missing output is refused with its line, and the inline component it read is not kept."""
    from pipelines.models import ComponentVersion
    from studio.yamlspec import load_yaml

    make_environment(workspace, owner, "plain")
    api = token_client(owner)
    answer = api.post(
        f"/api/v1/workspaces/{workspace.name}/schedules/",
        BROKEN_PIPELINE_SCHEDULE,
        content_type="application/yaml",
    )
    assert answer.status_code == 400, answer.content
    errors = answer.json()["errors"]
    assert "create_job.jobs.use.inputs.data" in errors, errors
    message = " ".join(errors["create_job.jobs.use.inputs.data"])
    assert "step 'make' has no output 'model' (it has: out)" in message and "(line 19)" in message, message
    assert not Schedule.objects.filter(workspace=workspace).exists()
    assert not ComponentVersion.objects.filter(workspace=workspace).exists(), "validating kept nothing"
    fixed = load_yaml(BROKEN_PIPELINE_SCHEDULE.replace("outputs.model}}", "outputs.out}}"))
    schedule = services.do_create_schedule(workspace, fixed, actor=owner)
    assert schedule.job_type == "pipeline"
    assert not ComponentVersion.objects.filter(workspace=workspace).exists(), "registered when a firing submits it"
