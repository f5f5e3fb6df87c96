"""Creating, changing, pausing, resuming and deleting schedules, and firing one.

Each schedule owns one django-celery-beat `PeriodicTask` (kept in step here, in the same
transaction); beat (DatabaseScheduler) sends `schedules.tasks.fire_schedule` when it is due and a
worker runs `fire_schedule`, which submits the job through `jobs.services.do_submit_job` as the
schedule's creator.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from jobs.services import do_submit_job
from schedules.models import Schedule, ScheduleRun
from schedules.spec import parse_schedule
from schedules.triggers import Trigger, parse_trigger
from studio import activity
from studio.actor import Actor
from studio.errors import Conflict
from studio.models import Workspace
from studio.permissions import can

logger = logging.getLogger(__name__)

FIRE_TASK = "schedules.tasks.fire_schedule"
SCHEDULE_TAG = "studio.schedule"  # the tag (MLflow run tag too) naming the schedule on each job it makes


def trigger_of(schedule: Schedule) -> Trigger:
    """The schedule's stored trigger, parsed again (it was validated when stored)."""
    return parse_trigger(schedule.trigger, created=schedule.created_at)


def _beat_entry(schedule: Schedule, trigger: Trigger) -> None:
    """Create or update the schedule's PeriodicTask (saving it tells beat the schedule changed)."""
    if trigger.cron is not None:
        minute, hour, day_of_month, month, day_of_week = trigger.cron
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month,
            day_of_week=day_of_week,
            timezone=trigger.time_zone,
        )
        kinds = {"crontab": crontab, "interval": None}
    else:
        assert trigger.every is not None
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=int(trigger.every.total_seconds()), period=IntervalSchedule.SECONDS
        )
        kinds = {"crontab": None, "interval": interval}
    task = schedule.periodic_task or PeriodicTask(name=f"studio-schedule-{schedule.pk}")
    for key, value in kinds.items():
        setattr(task, key, value)
    task.task = FIRE_TASK
    task.args = json.dumps([schedule.pk])
    task.kwargs = "{}"
    task.queue = settings.CELERY_TASK_DEFAULT_QUEUE
    task.enabled = schedule.enabled
    task.start_time = trigger.start
    task.expires = trigger.end
    task.description = f"Schedule {schedule.name} of workspace {schedule.workspace.name}"
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        Schedule.objects.filter(pk=schedule.pk).update(periodic_task=task)


@transaction.atomic
def do_create_schedule(workspace: Workspace, data: dict, *, actor: Actor, source: str = "schedule") -> Schedule:
    """Validate a schedule (the Azure ML schedule YAML as a mapping), store it enabled, and give
    beat its entry."""
    spec = parse_schedule(data, workspace, actor=actor, source=source)
    assert spec.trigger is not None  # required when not partial
    if Schedule.objects.filter(workspace=workspace, name=spec.name).exists():
        raise Conflict({"name": [f"A schedule named {spec.name!r} already exists in this workspace."]})
    schedule = Schedule.objects.create(
        workspace=workspace,
        name=spec.name,
        display_name=spec.display_name,
        description=spec.description,
        tags=spec.tags,
        trigger=spec.trigger.raw or {},
        trigger_type=spec.trigger.type,
        create_job=spec.create_job,
        job_spec=spec.job_spec,
        job_type=spec.job_type,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _beat_entry(schedule, spec.trigger)
    activity.record(workspace, actor, "schedule.created", schedule.name, trigger=schedule.trigger_type)
    return schedule


@transaction.atomic
def do_update_schedule(schedule: Schedule, data: dict, *, actor: Actor, source: str = "schedule") -> Schedule:
    """Change what the body gives of display_name, description, tags, trigger and create_job.
    Only the creator may change the job: each firing submits it as them, with their rights."""
    creator = schedule.created_by
    if "create_job" in data and (creator is None or actor is None or creator.pk != actor.pk):
        who = creator.get_username() if creator is not None else "its creator"
        raise PermissionDenied(
            f"Only {who}, who created schedule {schedule.name}, may change the job it submits: it runs as them. "
            "Create a schedule of your own instead."
        )
    spec = parse_schedule(data, schedule.workspace, actor=actor, source=source, partial=True)
    schedule = (
        Schedule.objects.select_for_update(of=("self",))
        .select_related("workspace", "periodic_task")
        .get(pk=schedule.pk)
    )
    fields = ["updated_at"]
    for key in ("display_name", "description", "tags"):
        if key in data:
            setattr(schedule, key, getattr(spec, key))
            fields.append(key)
    if spec.trigger is not None:
        schedule.trigger = spec.trigger.raw or {}
        schedule.trigger_type = spec.trigger.type
        fields += ["trigger", "trigger_type"]
    if "create_job" in data:
        schedule.job_spec, schedule.create_job, schedule.job_type = spec.job_spec, spec.create_job, spec.job_type
        fields += ["job_spec", "create_job", "job_type"]
    schedule.updated_at = timezone.now()
    schedule.save(update_fields=fields)
    if spec.trigger is not None:
        _beat_entry(schedule, spec.trigger)
    activity.record(
        schedule.workspace, actor, "schedule.updated", schedule.name, fields=sorted(set(fields) - {"updated_at"})
    )
    return schedule


def _set_enabled(schedule: Schedule, enabled: bool, *, actor: Actor) -> Schedule:
    schedule = (
        Schedule.objects.select_for_update(of=("self",))
        .select_related("workspace", "periodic_task")
        .get(pk=schedule.pk)
    )
    if schedule.enabled == enabled:
        return schedule
    schedule.enabled = enabled
    schedule.updated_at = timezone.now()
    schedule.save(update_fields=["enabled", "updated_at"])
    _beat_entry(schedule, trigger_of(schedule))
    activity.record(schedule.workspace, actor, "schedule.enabled" if enabled else "schedule.disabled", schedule.name)
    return schedule


@transaction.atomic
def do_enable_schedule(schedule: Schedule, *, actor: Actor) -> Schedule:
    """Resume a paused schedule: beat fires it again from its next due time."""
    return _set_enabled(schedule, True, actor=actor)


@transaction.atomic
def do_disable_schedule(schedule: Schedule, *, actor: Actor) -> Schedule:
    """Pause a schedule: beat stops sending it, and a firing already on its way submits nothing."""
    return _set_enabled(schedule, False, actor=actor)


@transaction.atomic
def do_delete_schedule(schedule: Schedule, *, actor: Actor) -> None:
    """Delete a schedule and its beat entry; the jobs it made stay."""
    workspace, name = schedule.workspace, schedule.name
    if schedule.periodic_task_id:
        PeriodicTask.objects.filter(pk=schedule.periodic_task_id).delete()
    schedule.delete()
    activity.record(workspace, actor, "schedule.deleted", name)


def refusal(schedule: Schedule) -> str:
    """Why the schedule may not submit a job now ("" when it may): its creator must still be an
    active member allowed to submit jobs."""
    creator = schedule.created_by
    if creator is None:
        return "the member who created it no longer exists; create the schedule again."
    if not creator.is_active:
        return f"its creator {creator.get_username()} is deactivated; create the schedule again."
    if not can(creator, schedule.workspace, "jobs.submit"):
        return (
            f"its creator {creator.get_username()} may no longer submit jobs in workspace "
            f"'{schedule.workspace.name}'; someone who may should create the schedule again."
        )
    return ""


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        parts = [
            f"{key}: {m}" if key not in ("__all__", "spec") else m for key, ms in exc.message_dict.items() for m in ms
        ]
    else:
        parts = list(exc.messages)
    return "; ".join(parts)[:1000]


def fire_schedule(schedule_id: int, *, task_id: str = "") -> ScheduleRun | None:
    """One firing (the beat task's body): submit the schedule's job as its creator, recorded as a
    run of the schedule and tagged with its name, or record why nothing was submitted. A paused,
    deleted or ended schedule does nothing, and so does a message (`task_id`) that already fired."""
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(of=("self",))
            .select_related("workspace", "created_by")
            .filter(pk=schedule_id)
            .first()
        )
        if schedule is None or not schedule.enabled:
            return None
        if task_id and ScheduleRun.objects.filter(task_id=task_id).exists():
            return None
        now = timezone.now()
        trigger = trigger_of(schedule)
        if trigger.end is not None and now > trigger.end:
            return None
        run = ScheduleRun(schedule=schedule, fired_at=now, task_id=task_id[:255])
        reason = refusal(schedule)
        if not reason and schedule.created_by is not None:
            data = dict(schedule.job_spec)
            data["tags"] = {**(data.get("tags") or {}), SCHEDULE_TAG: schedule.name}
            try:
                with transaction.atomic():
                    job = do_submit_job(schedule.workspace, actor=schedule.created_by, data=data, source="schedule")
            except ValidationError as exc:
                reason = f"the job was refused: {_messages(exc)}"
            else:
                run.job, run.job_name = job, job.name
        reason = reason[: ScheduleRun._meta.get_field("error").max_length]
        run.error = reason
        run.save()
        schedule.last_fired_at = now
        schedule.problem = reason
        schedule.save(update_fields=["last_fired_at", "problem"])
        if reason:
            logger.info("schedule %s of %s submitted nothing: %s", schedule.name, schedule.workspace.name, reason)
            activity.record(schedule.workspace, None, "schedule.refused", schedule.name, reason=reason[:300])
        else:
            activity.record(schedule.workspace, schedule.created_by, "schedule.fired", schedule.name, job=run.job_name)
        return run
