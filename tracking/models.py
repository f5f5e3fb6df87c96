"""MLflow 3 logged models: a model a run logged (`mlflow.sklearn.log_model`), with its own id
(`m-<hex>`), params, tags and artifacts. A logged model becomes a registered model version only
when someone registers it (registry app)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_model_id() -> str:
    return "m-" + uuid.uuid4().hex


class LoggedModel(models.Model):
    """`PENDING -> READY | FAILED` (the client finalizes after uploading the files)."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        READY = "READY"
        FAILED = "FAILED"

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="+")
    experiment = models.ForeignKey("jobs.Experiment", on_delete=models.CASCADE, related_name="logged_models")
    model_id = models.CharField(max_length=40, unique=True, default=new_model_id)
    name = models.CharField(max_length=250)
    model_type = models.CharField(max_length=100, blank=True)
    source_run = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.CASCADE, related_name="logged_models"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["experiment", "-created_at"], name="loggedmodel_exp_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_id})"
