"""Schedules: a trigger (cron or recurrence) that submits a job from a stored definition.

Beat's side is a django-celery-beat `PeriodicTask` (one per schedule, named `schedule:<pk>`)
whose task is `schedules.tasks.fire_schedule`; the schedule row owns it and keeps it in step.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from jobs.models.job import job_name_validator
from studio.querysets import WorkspaceScopedQuerySet


class TriggerType(models.TextChoices):
    CRON = "cron", "Cron"
    RECURRENCE = "recurrence", "Recurrence"


class Schedule(models.Model):
    """A schedule of one workspace. `enabled` is the state a member sets:

        enabled <-> disabled (paused)      (do_enable_schedule / do_disable_schedule)

    `job_spec` is the job mapping each firing submits (the YAML's `create_job`, resolved: a file's
    contents, an inline job, or a copy of an existing job taken when the schedule was made; its code
    is a snapshot id). `create_job` says where it came from. `problem` says why the last firing
    submitted nothing (the creator lost the right to submit, the environment was deleted …); a
    firing that submits a job clears it.
    """

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=100, validators=[job_name_validator])
    display_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True, max_length=5000)
    tags = models.JSONField(default=dict, blank=True)
    trigger = models.JSONField(help_text="the YAML's trigger mapping, validated")
    trigger_type = models.CharField(max_length=20, choices=TriggerType.choices)
    create_job = models.CharField(max_length=300, blank=True, help_text="azureml:<job> when a job was copied")
    job_spec = models.JSONField(help_text="the job mapping each firing submits")
    job_type = models.CharField(max_length=20, default="command")
    enabled = models.BooleanField(default=True)
    problem = models.CharField(max_length=1000, blank=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_fired_at = models.DateTimeField(null=True, blank=True)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="schedule_unique_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("schedules:schedule_detail", args=[self.workspace.name, self.name])

    @property
    def title(self) -> str:
        return self.display_name or self.name

    @property
    def status(self) -> str:
        return "Enabled" if self.enabled else "Disabled"


class ScheduleRun(models.Model):
    """One firing of a schedule: the job it submitted, or why it submitted none."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    fired_at = models.DateTimeField(default=timezone.now)
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="schedule_run"
    )
    job_name = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    task_id = models.CharField(max_length=255, blank=True, help_text="the Celery message that fired it")

    class Meta:
        ordering = ["-fired_at", "-pk"]
        indexes = [models.Index(fields=["schedule", "-fired_at"])]
        constraints = [
            # A message delivered again (acks_late, its worker died after the commit) fires nothing new.
            models.UniqueConstraint(
                fields=["task_id"], condition=~models.Q(task_id=""), name="schedulerun_once_per_message"
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule} at {self.fired_at:%Y-%m-%d %H:%M}"
