"""Named assets with numbered, immutable versions (environments, data assets, models), like Azure ML.

A reference is `name:version`, `name@latest`, optionally prefixed `azureml:`. Versions are strings
(Azure allows "1", "2", "2024-01"); auto-numbering takes the highest integer version + 1.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from studio.errors import Conflict
from studio.querysets import WorkspaceScopedQuerySet

REFERENCE = re.compile(
    r"^(?:azureml:)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,254})(?:(?::(?P<version>[A-Za-z0-9._-]+))|@(?P<label>latest))?$"
)
VERSION_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")


def parse_reference(ref: str, *, field: str = "environment") -> tuple[str, str | None]:
    """`azureml:sklearn:3` -> ("sklearn", "3"); `sklearn@latest` and `sklearn` -> ("sklearn", None)."""
    match = REFERENCE.match((ref or "").strip())
    if not match:
        raise ValidationError({field: [f"{ref!r} is not a reference: use name:version or name@latest."]})
    return match["name"], match["version"]


def next_version(existing: list[str]) -> str:
    numbers = [int(v) for v in existing if v.isdigit()]
    return str(max(numbers, default=0) + 1)


def validate_version(version: str, *, field: str = "version") -> str:
    version = str(version).strip()
    if not VERSION_RULE.match(version):
        raise ValidationError({field: ["A version is 1–30 letters, digits, '.', '_' or '-', e.g. 1 or 2024.01."]})
    return version


def version_sort_key(version: str) -> tuple:
    """Numeric versions sort numerically and after non-numeric ones ("latest" = last by this key)."""
    return (1, int(version), "") if version.isdigit() else (0, 0, version)


def version_order(row, version_field: str = "version") -> tuple:
    """Sort key of a version row: its version label, then when it was created."""
    return (version_sort_key(getattr(row, version_field)), row.created_at)


def sort_versions(rows, *, version_field: str = "version") -> list:
    """Version rows oldest first, for lists already loaded."""
    return sorted(rows, key=lambda r: version_order(r, version_field))


def newest(rows, *, version_field: str = "version"):
    """The newest of already-loaded version rows, or None."""
    return max(rows, key=lambda r: version_order(r, version_field), default=None)


def latest(queryset: models.QuerySet, *, version_field: str = "version", include_archived: bool = False):
    """The newest version in `queryset` (highest numeric version, else newest created)."""
    if not include_archived:
        queryset = queryset.filter(archived=False)
    return newest(queryset, version_field=version_field)


class VersionQuerySet(WorkspaceScopedQuerySet):
    """Version rows of a named asset (data versions, model versions): workspace-scoped, with an
    `archived` flag that hides a version from lists and from `@latest`."""

    def unarchived(self) -> VersionQuerySet:
        return self.filter(archived=False)


def create_next_version(
    asset_model: type[models.Model], workspace, name: str, version: str | None, *, created_by, **fields
):
    """Inside a transaction: a new version row of the named asset `name` (a data asset, a model;
    the asset is made if new, and locked so two creations number in turn), with `fields`. It
    takes `version` when free (a Conflict when taken: versions never change), else the next
    number. Returns the row."""
    asset: Any
    asset, _ = asset_model._default_manager.get_or_create(
        workspace=workspace, name=name, defaults={"created_by": created_by}
    )
    asset = asset_model._default_manager.select_for_update().get(pk=asset.pk)
    taken = list(asset.versions.values_list("version", flat=True))
    if version is None:
        version = next_version(taken)
    elif version in taken:
        raise Conflict({"version": [f"{name}:{version} already exists; versions cannot change. Use another version."]})
    return asset.versions.create(workspace=workspace, version=version, created_by=created_by, **fields)


class AssetVersion(models.Model):
    """The fields every version row of a named asset has (`datastores.DataVersion`,
    `registry.ModelVersion`). A subclass adds the foreign key to its asset, named by
    `asset_field`, with `related_name="versions"`. Versions are immutable but for description and
    tags; `archived` hides one from lists and from `@latest`, and restoring brings it back."""

    asset_field = "asset"

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="+")
    version = models.CharField(max_length=30)
    tags = models.JSONField(default=dict, blank=True)
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = VersionQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.reference

    @property
    def name(self) -> str:
        return getattr(self, self.asset_field).name

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.version}"


class AssetUsage(models.Model):
    """Lineage of a version row: a job read it as an input, or wrote it as an output. A subclass
    adds `version`, the foreign key to its version rows (`related_name="usages"`)."""

    class Direction(models.TextChoices):
        INPUT = "input", "Input"
        OUTPUT = "output", "Output"

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="+")
    job_name = models.CharField(max_length=255)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INPUT)
    port = models.CharField(max_length=255, blank=True, help_text="the job's input or output name")
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()
    version_id: int  # the subclass's foreign key to its version rows

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.job_name} {self.direction} {self.version_id}"

    @classmethod
    def record(cls, version: AssetVersion, job_name: str, *, direction: str, port: str = ""):
        """Job `job_name` used (input) or produced (output) `version`. Idempotent."""
        job_name_field = cls._meta.get_field("job_name")
        assert isinstance(job_name_field, models.CharField)
        usage, _ = cls._default_manager.get_or_create(  # type: ignore[misc]  # `version` is the subclass's
            version=version,
            job_name=str(job_name)[: job_name_field.max_length],
            direction=direction,
            port=str(port or "")[:255],
            defaults={"workspace_id": version.workspace_id},
        )
        return usage
