"""Content-addressed code snapshots: the files a job runs, stored once per content hash."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone

from studio.querysets import WorkspaceScopedQuerySet


class CodeSnapshot(models.Model):
    """A frozen copy of a code folder. `hash` is sha256 over the sorted (path, file sha256) list,
    so the same files give the same snapshot however they were zipped; the files live under
    STUDIO_CODE_DIR/<hash[:2]>/<hash>/ and are shared by every workspace that uploads them."""

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="code_snapshots")
    hash = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField(default=0)
    file_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["workspace", "hash"], name="codesnapshot_unique_hash")]

    def __str__(self) -> str:
        return self.hash[:12]

    @property
    def path(self) -> Path:
        return Path(settings.STUDIO_CODE_DIR) / self.hash[:2] / self.hash
