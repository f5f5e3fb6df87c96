"""Environments, their immutable versions, and the builds that materialise them on a backend."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from compute.models import Backend
from environments.querysets import BuildQuerySet, EnvironmentQuerySet, VersionQuerySet
from studio.models import Workspace

CURATED_PREFIX = "Studio-"
MUTABLE_FIELDS = {"archived", "description", "tags"}


class Environment(models.Model):
    """A named environment of a workspace, or a curated one (workspace is null, name starts with
    `Studio-`, shipped as environments/curated/*.yml and visible in every workspace). What it is
    lives in its versions."""

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="environments"
    )
    name = models.CharField(max_length=255)
    curated = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = EnvironmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="environment_unique_name"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(workspace__isnull=True), name="environment_unique_curated_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OsType(models.TextChoices):
    LINUX = "linux", "Linux"


class EnvironmentVersion(models.Model):
    """One immutable version of an environment: an image; an image + conda file; an image + pip
    requirements; or a Docker build context (kept as a normalised zip). Only `archived` (and, for
    curated environments, description and tags) may change after creation. `spec_hash` is the
    sha256 of the build-relevant content (environments.hashing)."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=30)
    description = models.TextField(blank=True, max_length=2000)
    tags = models.JSONField(default=dict, blank=True)
    image = models.CharField(max_length=500, blank=True)
    conda_file = models.TextField(blank=True)
    pip_requirements = models.TextField(blank=True)
    dockerfile_path = models.CharField(max_length=300, blank=True)
    dockerfile = models.TextField(blank=True, help_text="The build context's Dockerfile, kept for display")
    context_archive = models.BinaryField(null=True, blank=True, editable=False)
    context_files = models.JSONField(default=list, blank=True, help_text="[[path, size, sha256], ...]")
    environment_variables = models.JSONField(default=dict, blank=True)
    os_type = models.CharField(max_length=10, choices=OsType.choices, default=OsType.LINUX)
    user_managed = models.BooleanField(default=False)
    interpreter_path = models.CharField(max_length=500, blank=True)
    spec_hash = models.CharField(max_length=64, db_index=True)
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = VersionQuerySet.as_manager()
    # Set by resolve_environment when an Azure ML curated name (e.g. "AzureML-sklearn-1.5@latest")
    # was answered by this version; not stored.
    alias_of = ""

    class Meta:
        ordering = ["environment", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["environment", "version"], name="envversion_unique_version")]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        """Versions are immutable: once stored, only `archived` (and, for the curated catalog,
        description and tags) may be saved again, and only by naming them in update_fields."""
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or set(fields) - MUTABLE_FIELDS:
                raise ValueError(f"{self} is immutable; create a new version instead.")
        super().save(*args, **kwargs)

    def get_absolute_url(self, workspace: Workspace | None = None) -> str:
        ws = workspace or self.environment.workspace
        return reverse("environments:version_detail", args=[ws.name, self.environment.name, self.version])

    @property
    def reference(self) -> str:
        return f"{self.environment.name}:{self.version}"

    @property
    def kind(self) -> str:
        """image | conda | pip | build (what the definition is made of)."""
        if self.context_files:
            return "build"
        if self.conda_file:
            return "conda"
        if self.pip_requirements:
            return "pip"
        return "image"

    @property
    def kind_label(self) -> str:
        return {
            "image": "Docker image",
            "conda": "Image + conda file",
            "pip": "Image + pip requirements",
            "build": "Docker build context",
        }[self.kind]


class BuildStatus(models.TextChoices):
    QUEUED = "Queued"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


FINAL_STATUSES = {BuildStatus.SUCCEEDED, BuildStatus.FAILED}


class EnvironmentBuild(models.Model):
    """One attempt to materialise a version on a backend, kept with its log.

        Queued -> Running -> Succeeded | Failed
        (a cache hit is created Succeeded: same spec hash already built on that backend)

    `reason` says why it was a cache hit or miss; `source` is the build whose result a cache hit
    reuses. The log is the LogChunk stream `build/<id>`. `workspace` is where it was asked for
    (null for a curated version built outside any workspace, e.g. by a benchmark).
    """

    version = models.ForeignKey(EnvironmentVersion, on_delete=models.CASCADE, related_name="builds")
    workspace = models.ForeignKey(Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    backend = models.CharField(max_length=10, choices=Backend.choices)
    spec_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=BuildStatus.choices, default=BuildStatus.QUEUED, db_index=True)
    cache_hit = models.BooleanField(default=False)
    forced = models.BooleanField(default=False, help_text="A rebuild: the cache was not consulted")
    reason = models.CharField(max_length=500, blank=True)
    source = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reused_by")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    python = models.CharField(max_length=500, blank=True)
    image = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=500, blank=True)
    resolved_packages = models.JSONField(default=list, blank=True)
    base_image_id = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=1000, blank=True, help_text="The failing line, shown at the top")

    objects = BuildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["spec_hash", "backend", "status"], name="envbuild_cache_lookup")]

    def __str__(self) -> str:
        return f"build #{self.pk} of {self.version} on {self.backend}"

    @property
    def log_stream(self) -> str:
        return f"build/{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == BuildStatus.SUCCEEDED

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class BuildLock(models.Model):
    """The claim of one build on a spec hash and backend: at most one row per pair, so one build
    of a spec runs at a time on every node that shares this database. The holder heart-beats;
    a claim whose holder stopped heart-beating (a killed worker) is taken over (environments/locks.py).
    """

    spec_hash = models.CharField(max_length=64)
    backend = models.CharField(max_length=10, choices=Backend.choices)
    build = models.ForeignKey(EnvironmentBuild, on_delete=models.CASCADE, related_name="+")
    node = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["spec_hash", "backend"], name="one_build_per_spec")]

    def __str__(self) -> str:
        return f"build #{self.build_id} holds {self.backend}:{self.spec_hash[:12]}"
