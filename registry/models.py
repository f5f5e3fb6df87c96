"""Models: named, versioned assets holding a trained model's files (Azure ML's `model` asset and
MLflow's registered model are the same objects here)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from studio.querysets import WorkspaceScopedQuerySet
from studio.versioning import AssetUsage, AssetVersion

model_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}\Z", "Start with a letter or digit; then letters, digits, '.', '_' or '-'."
)
# MLflow's alias rule (letters, digits, '_' and '-'); "latest" and "v<n>" are reserved there too.
alias_validator = RegexValidator(r"^[A-Za-z0-9_-]{1,255}\Z", "Use 1–255 letters, digits, '_' or '-'.")


class Model(models.Model):
    """A registered model in a workspace: a name, a description and tags of its own (MLflow's
    registered-model description and tags); its files are in its immutable versions."""

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="models")
    name = models.CharField(max_length=255, validators=[model_name_validator])
    description = models.TextField(blank=True, max_length=5000)
    tags = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="model_unique_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:model_detail", args=[self.workspace.name, self.name])


class ModelVersion(AssetVersion):
    """One immutable version of a model: its files (copied into the workspace's artifact
    datastore at registration, so nothing the source does later changes them), its type, what it
    was made from and the job that made it. Only description, tags, stage and aliases change later.

    `archived` hides a version from lists and from `@latest` (an exact `name:version` still
    resolves); restoring brings it back. `stage` is MLflow's legacy stage:

        None -> Staging -> Production -> Archived   (any stage may move to any other)
    """

    class Type(models.TextChoices):
        CUSTOM = "custom_model", "Custom (custom_model)"
        MLFLOW = "mlflow_model", "MLflow (mlflow_model)"
        TRITON = "triton_model", "Triton (triton_model)"

    class Stage(models.TextChoices):
        NONE = "None", "None"
        STAGING = "Staging", "Staging"
        PRODUCTION = "Production", "Production"
        ARCHIVED = "Archived", "Archived"

    asset_field = "model"

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="versions")
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.CUSTOM)
    description = models.TextField(blank=True, max_length=5000)
    properties = models.JSONField(default=dict, blank=True, help_text="set at creation, never changed")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NONE)
    # What it was made from, as given ("local upload", azureml://jobs/…, runs:/…, azureml://datastores/…).
    source = models.CharField(max_length=2048, blank=True)
    # Lineage: the job (MLflow run) that produced the files, when known. The name survives the job.
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    job_name = models.CharField(max_length=100, blank=True)
    # Where the files are: a folder of the workspace's artifact datastore.
    datastore = models.ForeignKey("datastores.Datastore", on_delete=models.PROTECT, related_name="+")
    storage_path = models.CharField(max_length=1024)
    size_bytes = models.BigIntegerField(default=0)
    file_count = models.IntegerField(default=0)
    # The parsed `MLmodel` file of an mlflow_model (flavors, signature, input example, …); {} otherwise.
    mlmodel = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["model", "version"], name="model_version_unique")]
        indexes = [models.Index(fields=["workspace", "job_name"], name="model_version_ws_job")]

    def get_absolute_url(self) -> str:
        return reverse("registry:version_detail", args=[self.workspace.name, self.model.name, self.version])

    @property
    def uri(self) -> str:
        """How jobs name it: `azureml:<name>:<version>`."""
        return f"azureml:{self.model.name}:{self.version}"


class ModelAlias(models.Model):
    """MLflow's `@alias`: a movable name for one version, unique per model (`name@champion`)."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="aliases")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="+")
    alias = models.CharField(max_length=255, validators=[alias_validator])
    updated_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["alias"]
        constraints = [models.UniqueConstraint(fields=["model", "alias"], name="model_alias_unique")]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.alias}"


class ModelUsage(AssetUsage):
    """Lineage: a job read this model version as an input (or wrote it as an output)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="usages")
    job_name = models.CharField(max_length=100)

    class Meta(AssetUsage.Meta):
        constraints = [
            models.UniqueConstraint(fields=["version", "job_name", "direction", "port"], name="model_usage_unique")
        ]
