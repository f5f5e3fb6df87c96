"""Online endpoints and their deployments (Azure ML's managedOnlineEndpoint and
managedOnlineDeployment), and the instances that serve them.

A deployment's instances follow one state machine, driven by `instances.reconcile()` in the worker:
`Starting -> Ready -> (process gone) Failed -> Starting ...`; `Stopped` when the deployment no
longer wants it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.querysets import WorkspaceScopedQuerySet


class AuthMode(models.TextChoices):
    KEY = "key", "Key"
    AML_TOKEN = "aml_token", "Token"


class OnlineEndpoint(models.Model):
    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="online_endpoints")
    name = models.CharField(max_length=32)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    auth_mode = models.CharField(max_length=16, choices=AuthMode.choices, default=AuthMode.KEY)
    # deployment name -> percent; sums to 100 when it names any deployment (services check).
    traffic = models.JSONField(default=dict, blank=True)
    # {"primary": ..., "secondary": ...} encrypted with studio.crypto: keys are shown on demand.
    keys_encrypted = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="onlineendpoint_unique_name")]

    def __str__(self) -> str:
        return self.name


class OnlineDeployment(models.Model):
    endpoint = models.ForeignKey(OnlineEndpoint, on_delete=models.CASCADE, related_name="deployments")
    name = models.CharField(max_length=32)
    model = models.CharField(max_length=300)  # the reference as given (azureml:name:version)
    model_version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    # Both empty for an MLflow model deployed with no script (endpoints.mlflow_scoring serves it).
    code = models.ForeignKey("jobs.CodeSnapshot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    scoring_script = models.CharField(max_length=500, blank=True)
    environment = models.CharField(max_length=300)
    environment_version = models.ForeignKey(
        "environments.EnvironmentVersion", on_delete=models.PROTECT, related_name="+"
    )
    instance_type = models.CharField(max_length=100, blank=True)
    instance_count = models.PositiveIntegerField(default=1)
    environment_variables = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "name"], name="onlinedeployment_unique_name")]

    def __str__(self) -> str:
        return f"{self.endpoint.name}/{self.name}"


class InstanceStatus(models.TextChoices):
    STARTING = "starting", "Starting"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped"


class DeploymentInstance(models.Model):
    """One scoring server process of a deployment, on loopback `port` of the node `node`."""

    deployment = models.ForeignKey(OnlineDeployment, on_delete=models.CASCADE, related_name="instances")
    node = models.CharField(max_length=200)
    port = models.PositiveIntegerField(null=True)
    pid = models.PositiveIntegerField(null=True)
    status = models.CharField(max_length=16, choices=InstanceStatus.choices, default=InstanceStatus.STARTING)
    restarts = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]


# Batch endpoints live in their own module; imported here so Django finds their models.
from endpoints.batch.models import BatchDeployment, BatchEndpoint, BatchRun, MiniBatch  # noqa: E402, F401
