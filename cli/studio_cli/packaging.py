"""Zipping local folders for upload: a job's `code`, an environment's Docker build context, a
data folder. `.amlignore` (else `.gitignore`) files are honoured in every folder, as Azure ML does.
Zips are reproducible (sorted entries, fixed timestamps) so unchanged code uploads as the same bytes."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pathspec

from studio_cli.errors import SpecError

IGNORE_FILES = (".amlignore", ".gitignore")
ALWAYS_IGNORED = pathspec.GitIgnoreSpec.from_lines([".git/", "__pycache__/", "*.pyc", ".ipynb_checkpoints/"])
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class Packed:
    path: Path  # the zip file
    files: int
    size: int  # bytes of the zip


def _ignore_spec(folder: Path) -> pathspec.GitIgnoreSpec | None:
    for name in IGNORE_FILES:
        candidate = folder / name
        if candidate.is_file():
            return pathspec.GitIgnoreSpec.from_lines(
                candidate.read_text(encoding="utf-8", errors="replace").splitlines()
            )
    return None


def _ignored(specs: list[tuple[Path, pathspec.GitIgnoreSpec]], path: Path, is_dir: bool) -> bool:
    """Whether any ignore file from `path`'s ancestors (nearest last) excludes it."""
    for base, spec in specs:
        rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(rel):
            return True
    return False


def list_files(root: Path) -> list[tuple[Path, str]]:
    """(absolute path, name in the archive) of every file under `root` that is not ignored."""
    if root.is_file():
        return [(root, root.name)]
    out: list[tuple[Path, str]] = []
    inside = root.resolve()
    specs_by_dir: dict[Path, list[tuple[Path, pathspec.GitIgnoreSpec]]] = {}
    for current, dirnames, filenames in os.walk(root):
        folder = Path(current)
        inherited = specs_by_dir.get(folder, [(root, ALWAYS_IGNORED)])
        own = _ignore_spec(folder)
        specs = inherited + [(folder, own)] if own else inherited
        kept_dirs = []
        for d in sorted(dirnames):
            child = folder / d
            if child.is_symlink() or _ignored(specs, child, True):
                continue
            specs_by_dir[child] = specs
            kept_dirs.append(d)
        dirnames[:] = kept_dirs
        for f in sorted(filenames):
            path = folder / f
            if not path.is_file() or _ignored(specs, path, False):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(inside):
                # A link planted in a shared repository would upload the submitter's own files
                # (~/.ssh/id_rsa, cloud credentials) into a snapshot every member can read.
                raise SpecError(
                    f"{path} is a link to {path.resolve()}, outside {root}: Studio uploads no file from outside "
                    "the folder. Copy the file in, or list the link in .amlignore."
                )
            out.append((path, path.relative_to(root).as_posix()))
    return sorted(out, key=lambda item: item[1])


def zip_folder(root: Path, target: Path) -> Packed:
    """Write `root` (a folder, or a single file) as a zip at `target`."""
    files = list_files(root)
    if not files:
        raise SpecError(f"{root}: nothing to upload (the folder is empty or every file is ignored).")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, name in files:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            with open(path, "rb") as src, archive.open(info, "w") as dst:
                while chunk := src.read(1024 * 1024):
                    dst.write(chunk)
    return Packed(path=target, files=len(files), size=target.stat().st_size)
