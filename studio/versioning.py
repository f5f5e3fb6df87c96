"""Named assets with numbered, immutable versions (environments, data assets), like Azure ML.

A reference is `name:version`, `name@latest`, optionally prefixed `azureml:`. Versions are strings
(Azure allows "1", "2", "2024-01"); auto-numbering takes the highest integer version + 1.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models

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
