"""Online endpoints and their deployments (Azure ML's managedOnlineEndpoint and
managedOnlineDeployment), and the instances that serve them.

A deployment's instances are placed on nodes by `placement.place()` and follow one state machine,
driven by `instances.reconcile()` in the worker of the node they are assigned to:
`Starting -> Ready -> (process gone) Failed -> Starting ...`; `Stopped` when the deployment no
longer wants it. An update bumps the deployment's `generation`: the old generation keeps serving
until the new one is ready, then goes `Ready -> Draining` (no new requests) and is stopped after
the router's cache has forgotten it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio import crypto
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
    # deployment name -> percent of requests copied to it (a shadow: answers recorded, not returned).
    mirror_traffic = models.JSONField(default=dict, blank=True)
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
    # Where the instances run: the target's live nodes share them (endpoints.placement). Null: the
    # shared `local` target's nodes, as when no compute is given.
    compute = models.ForeignKey(
        "compute.ComputeTarget", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    environment_variables = models.JSONField(default=dict, blank=True)
    # Bumped when what the instances run changes: instances of older generations are replaced.
    generation = models.PositiveIntegerField(default=1)
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
    DRAINING = "draining", "Draining"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped"


class DeploymentInstance(models.Model):
    """One scoring server process of a deployment, listening on `host`:`port` of the node `node`.

    `endpoints.placement` assigns it to a live node of the deployment's compute target (and to
    another when that node stops heart-beating: `node` null or lost means "to be placed"); that
    node's worker starts and keeps it (`instances.reconcile`)."""

    deployment = models.ForeignKey(OnlineDeployment, on_delete=models.CASCADE, related_name="instances")
    generation = models.PositiveIntegerField(default=1)
    node = models.ForeignKey("compute.Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The node's advertised address (STUDIO_NODE_ADDRESS), set by the node when it starts the server.
    host = models.CharField(max_length=64, blank=True)
    port = models.PositiveIntegerField(null=True)
    pid = models.PositiveIntegerField(null=True)
    status = models.CharField(max_length=16, choices=InstanceStatus.choices, default=InstanceStatus.STARTING)
    restarts = models.PositiveIntegerField(default=0)
    # The secret its server requires in X-Studio-Instance-Key (new at every start; studio.crypto).
    # Only the router and the node's readiness probe read it; no page or API shows it.
    secret_encrypted = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    # A draining instance is stopped at this time (it takes no new requests meanwhile).
    stop_at = models.DateTimeField(null=True, blank=True)
    # How much of `server.log` on its node is shipped to its log stream (bytes; `instance_logs`).
    log_offset = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["pk"]

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted) if self.secret_encrypted else ""


class DeploymentMetrics(models.Model):
    """Requests of one deployment in one interval (`STUDIO_ENDPOINT_METRICS_SECONDS` wide), added
    up from every router process's in-memory counts: `latency` is a histogram over
    `endpoints.metrics.BOUNDS_MS` (counts per bucket), from which p50/p95/p99 are read."""

    deployment = models.ForeignKey(OnlineDeployment, on_delete=models.CASCADE, related_name="metrics")
    at = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    latency = models.JSONField(default=list)

    class Meta:
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["deployment", "at"], name="deploymentmetrics_unique_at")]


class MirroredRequest(models.Model):
    """One request copied to the shadow deployment (`mirror_traffic`): both answers, side by side.
    Bodies are kept short (`endpoints.mirror.KEEP_BYTES`); only the newest few hundred per endpoint
    are kept."""

    endpoint = models.ForeignKey(OnlineEndpoint, on_delete=models.CASCADE, related_name="mirrored")
    at = models.DateTimeField(default=timezone.now)
    live = models.CharField(max_length=32)
    shadow = models.CharField(max_length=32)
    request = models.TextField(blank=True)
    live_status = models.PositiveSmallIntegerField()
    live_body = models.TextField(blank=True)
    live_ms = models.FloatField()
    shadow_status = models.PositiveSmallIntegerField()  # 0: no answer at all
    shadow_body = models.TextField(blank=True)
    shadow_ms = models.FloatField()
    differs = models.BooleanField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["endpoint", "-at"], name="mirrored_endpoint_at")]


# Batch endpoints live in their own module; imported here so Django finds their models.
from endpoints.batch.models import BatchDeployment, BatchEndpoint, BatchRun, MiniBatch  # noqa: E402, F401
