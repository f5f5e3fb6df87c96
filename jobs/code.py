"""Code snapshots: turning an uploaded zip or folder into a content-addressed, immutable copy.

Uploads never escape their target: absolute paths, `..` parts, drive letters and symlinks are
refused (zip-slip), and sizes are capped. The hash covers paths and contents only, so re-uploading
the same files reuses the snapshot.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from datastores.reserve import Reserve
from jobs.models import CodeSnapshot
from studio import zips
from studio.paths import clean_relative_path

IGNORED_PARTS = {"__pycache__", ".git", ".ipynb_checkpoints", "__MACOSX", ".venv", ".mypy_cache", ".pytest_cache"}
IGNORED_NAMES = {".DS_Store", "Thumbs.db"}
IGNORED_SUFFIXES = (".pyc", ".pyo")


def clean_member_path(name: str, *, field: str = "code") -> str | None:
    """The safe relative POSIX path for an archive member, None for entries to skip (folders,
    caches, editor litter); raises on anything that would land outside the snapshot."""
    rel = clean_relative_path(name, field=field, what="archive entry")
    parts = rel.split("/") if rel else []
    if not parts or name.endswith("/"):
        return None
    if any(p in IGNORED_PARTS for p in parts) or parts[-1] in IGNORED_NAMES or parts[-1].endswith(IGNORED_SUFFIXES):
        return None
    return rel


class _Builder:
    """Writes files into a temporary folder, hashing as it goes, then moves it into the store."""

    def __init__(self, field: str = "code"):
        self.field = field
        root = Path(settings.STUDIO_CODE_DIR)
        root.mkdir(parents=True, exist_ok=True)
        # Every member can upload code, and many snapshots of up to STUDIO_CODE_MAX_BYTES each
        # could fill the disk: they keep the free-space reserve too.
        self.reserve = Reserve(folder=str(root), label="code snapshots", field=field)
        self.reserve.check()
        self.tmp = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))
        self.entries: dict[str, str] = {}
        self.folders: set[str] = set()
        self.total = 0

    def add(self, rel: str, source: IO[bytes], executable: bool = False) -> None:
        if rel in self.entries:
            raise ValidationError({self.field: [f"The file {rel!r} appears twice."]})
        if len(self.entries) >= settings.STUDIO_CODE_MAX_FILES:
            raise ValidationError({self.field: [f"Too many files (over {settings.STUDIO_CODE_MAX_FILES})."]})
        parents = ["/".join(rel.split("/")[:i]) for i in range(1, rel.count("/") + 1)]
        clash = rel if rel in self.folders else next((p for p in parents if p in self.entries), None)
        if clash is not None:
            raise ValidationError({self.field: [f"{clash!r} is both a file and a folder in the upload."]})
        self.folders.update(parents)
        target = self.tmp / rel
        if not target.resolve().is_relative_to(self.tmp.resolve()):
            raise ValidationError({self.field: [f"The file {rel!r} points outside the code folder."]})
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(target, "wb") as out:
            while block := source.read(1024 * 1024):
                self.total += len(block)
                if self.total > settings.STUDIO_CODE_MAX_BYTES:
                    raise ValidationError(
                        {
                            self.field: [
                                f"The code is larger than {settings.STUDIO_CODE_MAX_BYTES // (1024 * 1024)} MiB."
                            ]
                        }
                    )
                self.reserve.take(len(block))
                digest.update(block)
                out.write(block)
        if executable:
            target.chmod(0o755)
        self.entries[rel] = digest.hexdigest()

    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for rel in sorted(self.entries):
            digest.update(f"{rel}\0{self.entries[rel]}\n".encode())
        return digest.hexdigest()

    def finish(self, workspace, actor) -> CodeSnapshot:
        if not self.entries:
            raise ValidationError({self.field: ["The code is empty: upload at least one file."]})
        content_hash = self.content_hash()
        final = Path(settings.STUDIO_CODE_DIR) / content_hash[:2] / content_hash
        if final.is_dir():
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(self.tmp, final)
            except OSError:  # another upload of the same content won the race
                shutil.rmtree(self.tmp, ignore_errors=True)
        try:
            with transaction.atomic():
                snapshot, _ = CodeSnapshot.objects.get_or_create(
                    workspace=workspace,
                    hash=content_hash,
                    defaults={"size_bytes": self.total, "file_count": len(self.entries), "created_by": actor},
                )
        except IntegrityError:
            snapshot = CodeSnapshot.objects.get(workspace=workspace, hash=content_hash)
        return snapshot

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def snapshot_from_zip(workspace, fileobj: IO[bytes], *, actor=None, field: str = "code") -> CodeSnapshot:
    """A snapshot of the files in a zip archive (the API's `POST /codes/` and the form's upload)."""
    builder = _Builder(field)
    try:
        try:
            archive = zipfile.ZipFile(fileobj)
        except (zipfile.BadZipFile, OSError):
            raise ValidationError({field: ["The code must be a zip archive."]}) from None
        with archive:
            for info in archive.infolist():
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise ValidationError(
                        {field: [f"The archive entry {info.filename!r} is a symbolic link; links are refused."]}
                    )
                rel = clean_member_path(info.filename, field=field)
                if rel is None or info.is_dir():
                    continue
                try:
                    with archive.open(info) as source:
                        builder.add(rel, source, executable=bool(mode & 0o111))
                except zips.READ_ERRORS as exc:
                    raise zips.unreadable(exc, field=field, name=info.filename) from None
        return builder.finish(workspace, actor)
    except BaseException:
        builder.abort()
        raise


def snapshot_from_files(
    workspace, files: Iterable[tuple[str, IO[bytes]]], *, actor=None, strip_top: bool = True, field: str = "code"
) -> CodeSnapshot:
    """A snapshot of a folder uploaded file by file (the form's folder picker sends each file with
    its relative path, whose first part, the picked folder's own name, is dropped)."""
    builder = _Builder(field)
    try:
        items = list(files)
        names = [name for name, _ in items]
        tops = {n.split("/", 1)[0] for n in names if "/" in n}
        strip = strip_top and len(tops) == 1 and all("/" in n for n in names)
        for name, source in zip(names, (s for _, s in items), strict=True):
            rel = clean_member_path(name.split("/", 1)[1] if strip else name, field=field)
            if rel is not None:
                builder.add(rel, source)
        return builder.finish(workspace, actor)
    except BaseException:
        builder.abort()
        raise


def list_files(snapshot: CodeSnapshot) -> list[dict]:
    """[{"path", "size"}] of a snapshot, sorted by path."""
    root = snapshot.path
    out = []
    if root.is_dir():
        for dirpath, _dirs, files in os.walk(root):
            for fname in files:
                full = Path(dirpath) / fname
                out.append({"path": full.relative_to(root).as_posix(), "size": full.stat().st_size})
    return sorted(out, key=lambda f: f["path"])


def open_file(snapshot: CodeSnapshot, rel: str) -> Path | None:
    """The path of one file of a snapshot, or None when `rel` is not a file inside it."""
    return file_inside(snapshot.path, rel)


def file_inside(folder: Path, rel: str) -> Path | None:
    """`folder/rel` when it is a regular file that resolves inside `folder` (no `..` or symlink
    escapes), else None. Shared by code snapshot and job output downloads."""
    root = folder.resolve()
    try:
        target = (root / rel).resolve()
    except (OSError, ValueError):
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target
