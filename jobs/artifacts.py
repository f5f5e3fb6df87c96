"""Where a finished job's `outputs/` are kept, and safe reading of them for pages and the API.

Outputs are copied into STUDIO_ARTIFACTS_DIR/jobs/<job id>/outputs when the job finalizes (on
several machines, that folder is shared storage); named outputs with a datastore `path` are also
uploaded there by the datastores app.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path

from django.conf import settings

from jobs.code import file_inside


def outputs_root(job) -> Path:
    return Path(settings.STUDIO_ARTIFACTS_DIR) / "jobs" / str(job.pk) / "outputs"


def list_outputs(job, limit: int = 5000) -> list[dict]:
    """[{"path": "outputs/model.pkl", "size": 123}] sorted by path (at most `limit`)."""
    root = outputs_root(job)
    out: list[dict] = []
    if not root.is_dir():
        return out
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = Path(dirpath) / name
            if full.is_symlink():
                continue
            out.append({"path": "outputs/" + full.relative_to(root).as_posix(), "size": full.stat().st_size})
            if len(out) >= limit:
                return out
    return out


def open_output(job, rel: str) -> Path | None:
    """The file `outputs/<rel>` of a job, or None when it is not a regular file inside them."""
    return file_inside(outputs_root(job), rel.removeprefix("outputs/"))


class NoSpaceLeft(OSError):
    """A disk filled up; the message says which and what was (not) kept."""


# Below this much free space the disk of a job folder counts as full after a run.
FULL_BELOW_BYTES = 1024 * 1024


def store_outputs(job, source: Path) -> tuple[int, int]:
    """Copy a job folder's outputs into the artifact store; returns (files, bytes). Symlinks are
    not followed (a job cannot publish files from outside its folder).

    The copy is made beside the final folder and renamed into place only when complete, so a
    copy cut short (a full disk) never shows up as outputs: it is removed and NoSpaceLeft raised.
    """
    dest = outputs_root(job)
    partial = dest.with_name(f".outputs-{uuid.uuid4().hex}.partial")
    files = size = 0
    try:
        partial.mkdir(parents=True)
        for dirpath, _dirs, names in os.walk(source):
            rel_dir = Path(dirpath).relative_to(source)
            (partial / rel_dir).mkdir(parents=True, exist_ok=True)
            for name in names:
                src = Path(dirpath) / name
                if src.is_symlink() or not src.is_file():
                    continue
                shutil.copyfile(src, partial / rel_dir / name)
                files += 1
                size += src.stat().st_size
        if dest.exists():
            shutil.rmtree(dest)
        partial.rename(dest)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpaceLeft(
                exc.errno, "No space left on the artifact store while storing the outputs; none were kept."
            ) from None
        raise
    return files, size


def disk_full(folder: Path, log_tail: list[str]) -> str:
    """Why a finished run is taken to have filled its disk, or ''. Either the job folder's
    filesystem is (nearly) full now, or the command's last lines report ENOSPC."""
    try:
        stats = os.statvfs(folder)
        free = stats.f_bavail * stats.f_frsize
    except OSError:
        free = None
    said = any("No space left on device" in line or "[Errno 28]" in line for line in log_tail[-20:])
    if free is not None and free < FULL_BELOW_BYTES:
        return f"No space left on device: the job's folder filled its disk ({free // 1024} KiB free)."
    if said:
        return "No space left on device: the command reported that its disk was full."
    return ""


def delete_artifacts(job) -> None:
    shutil.rmtree(outputs_root(job).parent, ignore_errors=True)
