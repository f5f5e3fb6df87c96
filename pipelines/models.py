"""Components (versioned step definitions), pipelines (the DAG side of a `type: pipeline` job) and
their steps."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from studio.querysets import WorkspaceScopedQuerySet


class Component(models.Model):
    """A named command component of a workspace; what it is lives in its versions."""

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=255)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="component_unique_name")]

    def __str__(self) -> str:
        return self.name


class ComponentVersion(models.Model):
    """One immutable version of a command component (Azure ML commandComponent.schema.json):
    typed inputs and outputs, a command with `${{inputs.x}}`/`${{outputs.y}}`, a code snapshot and
    an environment reference. `spec` is the validated ComponentSpec; `interface_hash` is the sha256
    of what runs (command, interface, environment reference, code hash), used by step reuse."""

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="+")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=30)
    display_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True, max_length=5000)
    tags = models.JSONField(default=dict, blank=True)
    spec = models.JSONField()
    code = models.ForeignKey("jobs.CodeSnapshot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_deterministic = models.BooleanField(default=True)
    interface_hash = models.CharField(max_length=64)
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["component__name", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["component", "version"], name="componentversion_unique")]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("pipelines:component_version", args=[self.workspace.name, self.component.name, self.version])

    @property
    def name(self) -> str:
        return self.component.name

    @property
    def reference(self) -> str:
        return f"{self.component.name}:{self.version}"


class Pipeline(models.Model):
    """The pipeline side of a `type: pipeline` job. The job's status is the pipeline's:

        Running -> Completed (every step completed or reused) | Failed (a step failed) | Canceled

    `spec` is the validated PipelineSpec (steps with pinned components, environments, bindings).
    The pipeline is advanced (`pipelines.engine.advance`) when a step's job ends, on commit, under
    a lock on this row: nothing loops while steps run."""

    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="pipeline")
    spec = models.JSONField()
    force_rerun = models.BooleanField(default=False)
    continue_on_step_failure = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.job.name


class StepState(models.TextChoices):
    WAITING = "waiting", "Waiting"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    REUSED = "reused", "Reused"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    SKIPPED = "skipped", "Skipped"


DONE_STATES = (StepState.COMPLETED, StepState.REUSED)
FINAL_STATES = (StepState.COMPLETED, StepState.REUSED, StepState.FAILED, StepState.CANCELED, StepState.SKIPPED)


class PipelineStep(models.Model):
    """One step of a pipeline:

        waiting -> running (its child command job) -> completed | failed | canceled
                `-> reused (an earlier identical deterministic step's outputs, at once)
                `-> skipped (an upstream step failed) | canceled (the pipeline was)

    `fingerprint` is the sha256 over what decides the step's result (component, code, environment
    build, input data content, literal values); `identity` keeps those parts readable, so a step
    can say why it was reused or what changed since its last run (`explanation`). `outputs` maps
    each output to {"uri", "type", "digest"} once it is known."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="steps")
    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    component_version = models.ForeignKey(
        ComponentVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps"
    )
    state = models.CharField(max_length=10, choices=StepState.choices, default=StepState.WAITING)
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="pipeline_step"
    )
    reused_from = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="reused_by"
    )
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    identity = models.JSONField(default=dict, blank=True)
    explanation = models.CharField(max_length=2000, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=1000, blank=True, help_text="why it failed, was skipped or canceled")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "name"], name="pipelinestep_unique_name")]
        indexes = [
            models.Index(fields=["workspace", "fingerprint", "state"], name="step_ws_fingerprint"),
            # A step's last run, to say what changed since (pipelines.services: the reuse lookup).
            models.Index(fields=["workspace", "name", "state"], name="step_ws_name"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} / {self.name}"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def duration(self):
        if not self.started_at:
            return None
        return (self.ended_at or timezone.now()) - self.started_at
