"""The free-space reserve: a member's write into a datastore on this machine's disk (or into the
code store, jobs/code.py) must leave STUDIO_STORAGE_RESERVE free on that file system. Members
share the disk with every job's folder, the logs and often the database; without a floor one
upload or model zip could fill it for all.

Object stores (S3, Azure Blob) are not checked: their space is not this machine's. Studio's own
writes (job outputs, logs, builds) do not go through here: they fail on a full disk on their own.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from django.conf import settings

from studio.errors import InsufficientStorage

if TYPE_CHECKING:
    from datastores.storage import Store

# Free space is measured again after this many bytes: a statvfs per 1 MiB chunk would cost more
# than it saves; in between, the bytes written are counted against what was free.
CHECK_EVERY = 8 * 2**20


def human_size(size: int) -> str:
    """1.2 GiB, 500 MiB, 12 KiB, 80 bytes."""
    if size < 1024:
        return f"{size} bytes"
    value, units = size / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f}".removesuffix(".0") + f" {units[0]}"


def free_bytes(path: str) -> int:
    """Free space for unprivileged writers on the file system holding `path` (or its nearest
    existing parent: a datastore's folder may not be made yet)."""
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return shutil.disk_usage(path).free


class Reserve:
    """Keeps one write (of one or more files) into `store` above the reserve: `check()` before
    opening, `need(size)` for a size known in advance, `take(size)` before writing each chunk."""

    def __init__(self, store: Store | None = None, *, field: str = "file", folder: str = "", label: str = ""):
        """For `store`, or for a `folder` of this machine named `label` (code snapshots)."""
        self.label, self.field = (store.label if store is not None else label), field
        self.limit = settings.STUDIO_STORAGE_RESERVE
        root = (store.root if store.local else None) if store is not None else folder
        self.root = root if root and self.limit > 0 else None
        self.allowance = 0  # bytes that may still be written before free space is measured again
        self.unmeasured = 0

    @property
    def active(self) -> bool:
        return self.root is not None

    def check(self) -> None:
        """Refuse when the file system is already at or below the reserve."""
        self._measure(0)

    def need(self, size: int) -> None:
        """Refuse a write of `size` more bytes (declared in advance) that would go below the reserve."""
        self._measure(size, declared=True)

    def need_body(self, request) -> None:
        """Refuse a request body whose declared length (Content-Length) would go below the
        reserve, before any of it is read."""
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit():
            self.need(int(declared))

    def take(self, size: int) -> None:
        """Count a chunk about to be written; refuse it when it would go below the reserve."""
        if self.root is None:
            return
        self.unmeasured += size
        if size > self.allowance or self.unmeasured >= CHECK_EVERY:
            self._measure(size)
        self.allowance -= size

    def _measure(self, size: int, *, declared: bool = False) -> None:
        if self.root is None:
            return
        free = free_bytes(self.root)
        self.allowance, self.unmeasured = free - self.limit, 0
        if size > self.allowance:
            raise InsufficientStorage({self.field: [self.message(free, size if declared else 0)]})

    def message(self, free: int, size: int = 0) -> str:
        what = f" for {human_size(size)}" if size else ""
        return (
            f"Not enough free disk space on the storage of {self.label}{what}: {human_size(max(free, 0))} free, "
            f"and Studio keeps {human_size(self.limit)} free for running jobs. Ask an administrator to free space."
        )
