"""Where a finished job's `outputs/` are kept, and safe reading of them for pages and the API.

Outputs are copied into STUDIO_ARTIFACTS_DIR/jobs/<job id>/outputs when the job finalizes (on
several machines, that folder is shared storage); named outputs with a datastore `path` are also
uploaded there by the datastores app.
"""

from __future__ import annotations

import os
import shutil
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


def store_outputs(job, source: Path) -> tuple[int, int]:
    """Copy a job folder's outputs into the artifact store; returns (files, bytes). Symlinks are
    not followed (a job cannot publish files from outside its folder)."""
    dest = outputs_root(job)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    files = size = 0
    for dirpath, _dirs, names in os.walk(source):
        rel_dir = Path(dirpath).relative_to(source)
        (dest / rel_dir).mkdir(parents=True, exist_ok=True)
        for name in names:
            src = Path(dirpath) / name
            if src.is_symlink() or not src.is_file():
                continue
            shutil.copyfile(src, dest / rel_dir / name)
            files += 1
            size += src.stat().st_size
    return files, size


def delete_artifacts(job) -> None:
    shutil.rmtree(outputs_root(job).parent, ignore_errors=True)
