"""Experiments and command jobs. (A first cut: the jobs issue fills this in.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.querysets import WorkspaceScopedQuerySet


class Experiment(models.Model):
    """A named group of jobs in a workspace."""

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="experiment_unique_name")]

    def __str__(self) -> str:
        return self.name


class JobStatus(models.TextChoices):
    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"


class Job(models.Model):
    """A command job.

    NotStarted -> Queued -> Preparing -> Running -> Finalizing -> Completed | Failed | Canceled
    """

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="jobs")
    name = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="jobs")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.NOT_STARTED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="job_unique_name")]

    def __str__(self) -> str:
        return self.name
