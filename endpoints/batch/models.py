"""Batch endpoints, their deployments, and the state of each batch scoring job.

A batch scoring job is a `Job` of type `batch_scoring` (the parent) with one `BatchRun` row; its
input files are cut into `MiniBatch` rows, each scored by a child command job. A mini-batch moves

    Pending -> Running -> Succeeded | (Failed -> Running again, while retries are left) | Failed

advanced by `scoring.advance()` each time a child ends (on commit), never by a waiting loop.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.querysets import WorkspaceScopedQuerySet


class BatchEndpoint(models.Model):
    """A named entry point; `default_deployment` takes invocations that name no deployment."""

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="batch_endpoints")
    name = models.CharField(max_length=32)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    default_deployment = models.CharField(max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="batchendpoint_unique_name")]

    def __str__(self) -> str:
        return self.name


class OutputAction(models.TextChoices):
    APPEND_ROW = "append_row", "Append rows to the output file"
    SUMMARY_ONLY = "summary_only", "Summary only"


class BatchDeployment(models.Model):
    """What scores the files: a model, a driver script (`init()` + `run(mini_batch)`; none for an
    MLflow model), an environment and a compute target, with Azure's batch settings."""

    endpoint = models.ForeignKey(BatchEndpoint, on_delete=models.CASCADE, related_name="deployments")
    name = models.CharField(max_length=32)
    description = models.TextField(blank=True)
    model = models.CharField(max_length=300)
    model_version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    # Both empty for an MLflow model with no driver (Studio's pyfunc driver scores it).
    code = models.ForeignKey("jobs.CodeSnapshot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    scoring_script = models.CharField(max_length=500, blank=True)
    environment = models.CharField(max_length=300)
    environment_version = models.ForeignKey(
        "environments.EnvironmentVersion", on_delete=models.PROTECT, related_name="+"
    )
    compute = models.CharField(max_length=100)
    instance_count = models.PositiveIntegerField(default=1)
    max_concurrency_per_instance = models.PositiveIntegerField(default=1)
    mini_batch_size = models.PositiveIntegerField(default=10)
    output_action = models.CharField(max_length=20, choices=OutputAction.choices, default=OutputAction.APPEND_ROW)
    output_file_name = models.CharField(max_length=200, default="predictions.csv")
    max_retries = models.PositiveIntegerField(default=3)
    timeout = models.PositiveIntegerField(default=30, help_text="seconds for one run(mini_batch) call")
    error_threshold = models.IntegerField(default=-1, help_text="failed files tolerated; -1: any number")
    environment_variables = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "name"], name="batchdeployment_unique_name")]

    def __str__(self) -> str:
        return f"{self.endpoint.name}/{self.name}"

    @property
    def concurrency(self) -> int:
        """Mini-batches scored at once: instance_count x max_concurrency_per_instance."""
        return self.instance_count * self.max_concurrency_per_instance


class BatchRun(models.Model):
    """The batch scoring side of a `batch_scoring` job: what it was invoked with (a copy of the
    deployment's settings, so later changes do not touch it) and how far it got."""

    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="batch_run")
    endpoint = models.ForeignKey(BatchEndpoint, null=True, on_delete=models.SET_NULL, related_name="runs")
    deployment = models.ForeignKey(BatchDeployment, null=True, on_delete=models.SET_NULL, related_name="runs")
    endpoint_name = models.CharField(max_length=32)
    deployment_name = models.CharField(max_length=32)
    settings = models.JSONField(default=dict)
    child_data = models.JSONField(default=dict, help_text="the command job each mini-batch runs, less its files")
    total_files = models.PositiveIntegerField(default=0)
    failed_files = models.PositiveIntegerField(default=0)
    stop_reason = models.CharField(max_length=1000, blank=True)

    def __str__(self) -> str:
        return f"{self.endpoint_name}/{self.deployment_name}: {self.job_id}"


class MiniBatchState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class MiniBatch(models.Model):
    """`files` (paths relative to the input) scored by the child job `job` (the latest attempt)."""

    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="mini_batches")
    index = models.PositiveIntegerField()
    files = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=MiniBatchState.choices, default=MiniBatchState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="minibatch_unique_index")]
