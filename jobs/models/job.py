"""Experiments, command jobs and the events of a job's life."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from jobs.querysets import ExperimentQuerySet, JobQuerySet

JOB_NAME_RULE = "1–100 characters: letters, digits, '-' or '_', starting with a letter or digit"
job_name_validator = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}\Z", f"Use {JOB_NAME_RULE}.")
experiment_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}\Z",
    "Use 1–255 letters, digits, '-', '_' or '.', starting with a letter or digit.",
)


class Experiment(models.Model):
    """A named group of jobs in a workspace; created on first use by a submission."""

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=255, validators=[experiment_name_validator])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="experiment_unique_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("jobs:experiment_detail", args=[self.workspace.name, self.name])


class JobStatus(models.TextChoices):
    NOT_STARTED = "NotStarted", "Not started"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"


ACTIVE_STATUSES = (JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.FINALIZING)
UNFINISHED_STATUSES = (JobStatus.NOT_STARTED, JobStatus.QUEUED, *ACTIVE_STATUSES)
FINAL_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


class JobType(models.TextChoices):
    """What a job is. A sweep's trials and a pipeline's steps are command jobs with a `parent`."""

    COMMAND = "command", "Command"
    SWEEP = "sweep", "Sweep"
    PIPELINE = "pipeline", "Pipeline"
    BATCH_SCORING = "batch_scoring", "Batch scoring"


class FailureKind(models.TextChoices):
    """Why a job did not complete; the first line of the failure banner."""

    USER_ERROR = "user_error", "The command failed"
    MEMORY = "memory", "Exceeded its memory limit"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELED = "canceled", "Canceled"
    NODE_LOST = "node_lost", "Node lost"
    BUILD_FAILED = "build_failed", "Environment build failed"
    PREPARATION = "preparation", "Preparation failed"
    INFRA = "infra", "Infrastructure error"


class Job(models.Model):
    """A command job: a code snapshot + a command, run in a pinned environment version on a compute
    target. The runner moves it along; every move is a conditional UPDATE (an atomic claim):

        NotStarted -> Queued -> Preparing -> Running -> Finalizing -> Completed | Failed | Canceled
                        |           |            |            `-> Failed (upload failed)
                        |           |            `-> Failed (exit != 0, OOM, timeout, node lost) | Canceled
                        |           `-> Failed (build failed, staging failed, node lost) | Canceled
                        `-> Canceled (cancel before a node picked it up)
    """

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="jobs")
    name = models.CharField(max_length=100, validators=[job_name_validator])
    display_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True, max_length=5000)
    tags = models.JSONField(default=dict, blank=True)
    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="jobs")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.NOT_STARTED)
    type = models.CharField(max_length=20, choices=JobType.choices, default=JobType.COMMAND)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children", help_text="sweep or pipeline"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    # What to run.
    code = models.ForeignKey("jobs.CodeSnapshot", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    command = models.TextField(help_text="As submitted, with ${{inputs.x}} placeholders")
    environment_ref = models.CharField(max_length=300, help_text="The reference as submitted")
    environment_version = models.ForeignKey(
        "environments.EnvironmentVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    environment_name = models.CharField(max_length=255, blank=True)
    environment_version_label = models.CharField(max_length=64, blank=True)
    compute = models.ForeignKey(
        "compute.ComputeTarget", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    compute_name = models.CharField(max_length=100)
    backend = models.CharField(max_length=20, blank=True, help_text="venv or docker, fixed at submission")
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    environment_variables = models.JSONField(default=dict, blank=True)
    resources = models.JSONField(default=dict, blank=True, help_text="cpu, memory (bytes), instance_count")
    timeout_seconds = models.PositiveIntegerField(null=True, blank=True)
    max_retries = models.PositiveSmallIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=10, default="api", help_text="form, api or yaml")

    # What happened.
    node = models.CharField(max_length=200, blank=True)
    wait_reason = models.CharField(max_length=500, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    failure_kind = models.CharField(max_length=20, choices=FailureKind.choices, blank=True)
    failure_reason = models.TextField(blank=True)
    error_excerpt = models.TextField(blank=True, help_text="The last error lines of the log")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    canceled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    build_info = models.JSONField(default=dict, blank=True, help_text="spec hash, cache hit, image or interpreter")
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="Preparing began")
    running_at = models.DateTimeField(null=True, blank=True)
    finalizing_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Archived jobs are hidden from lists (a filter shows them) and kept whole; restore clears it.
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="job_unique_name")]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="job_ws_created"),
            models.Index(fields=["workspace", "status", "-created_at", "-id"], name="job_ws_status_created"),
            models.Index(fields=["experiment", "-created_at", "-id"], name="job_exp_created"),
            models.Index(fields=["workspace", "created_by", "-created_at"], name="job_ws_creator_created"),
            models.Index(fields=["workspace", "compute_name", "-created_at"], name="job_ws_compute_created"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat"),
            models.Index(fields=["parent", "status"], name="job_parent_status"),
            models.Index(fields=["created_by", "ended_at"], name="job_creator_ended"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("jobs:job_detail", args=[self.workspace.name, self.name])

    @property
    def title(self) -> str:
        return self.display_name or self.name

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def environment_label(self) -> str:
        if self.environment_name:
            return f"{self.environment_name}:{self.environment_version_label}"
        return self.environment_ref

    @property
    def duration(self):
        """Wall time from leaving the queue to the end (or now, while it runs)."""
        if not self.started_at:
            return None
        return (self.ended_at or timezone.now()) - self.started_at

    def log_stream(self, path: str = "user_logs/std_log.txt") -> str:
        return f"job/{self.pk}/{path}"

    @property
    def log_prefix(self) -> str:
        return f"job/{self.pk}/"


class JobEvent(models.Model):
    """One entry of a job's timeline: a status change, a wait and its reason, or a runner note."""

    class Kind(models.TextChoices):
        STATUS = "status"
        WAIT = "wait"
        INFO = "info"
        ERROR = "error"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=JobStatus.choices, blank=True)
    message = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["job", "created_at"], name="jobevent_job_time")]

    def __str__(self) -> str:
        return f"{self.job_id} {self.kind} {self.status} {self.message}"
