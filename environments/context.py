"""Docker build contexts: checked on the way in, stored as a normalised zip, unpacked for a build.

Every path is checked before anything is stored: no absolute paths, no `..`, no drive letters,
no symlinks, a size and file-count cap, and a Dockerfile where `dockerfile_path` says. A zip of a
single folder is taken as that folder's content.
"""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from studio import zips
from studio.paths import clean_relative_path

MAX_FILES = 5000
FIELD = "build"


def _invalid(message: str) -> ValidationError:
    return ValidationError({FIELD: [message]})


def safe_path(name: str) -> str:
    """A relative POSIX path inside the context, or a ValidationError (zip-slip and friends)."""
    path = clean_relative_path(name, field=FIELD, what="path in the build context")
    if not path:
        raise _invalid(f"The build context contains an empty path ({name!r}).")
    return path


def _check_size(files: dict[str, bytes]) -> None:
    limit = settings.STUDIO_BUILD_CONTEXT_MAX_BYTES
    total = sum(len(b) for b in files.values())
    if total > limit:
        raise _invalid(f"The build context is {total // 1024} KiB; the limit is {limit // 1024} KiB.")
    if len(files) > MAX_FILES:
        raise _invalid(f"The build context has {len(files)} files; the limit is {MAX_FILES}.")


def from_zip(data: bytes) -> dict[str, bytes]:
    """The files of an uploaded zip, checked. Directories are implied by file paths."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _invalid("The build context upload is not a zip file.") from None
    limit = settings.STUDIO_BUILD_CONTEXT_MAX_BYTES
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_FILES * 2:
            raise _invalid(f"The zip has {len(infos)} entries; the limit is {MAX_FILES}.")
        for info in infos:
            mode = info.external_attr >> 16
            path = safe_path(info.filename)
            if info.is_dir():
                continue
            if stat.S_ISLNK(mode):
                raise _invalid(f"The build context contains a symbolic link ({info.filename!r}); add the file itself.")
            total += info.file_size
            if total > limit:
                raise _invalid(f"The build context is larger than {limit // 1024} KiB once unpacked.")
            try:
                files[path] = archive.read(info)
            except zips.READ_ERRORS as exc:
                raise zips.unreadable(exc, field=FIELD, name=info.filename) from None
    return strip_single_folder(files)


def from_files(pairs: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """Files of a folder upload, as (relative path, content) pairs."""
    files = {safe_path(name): content for name, content in pairs}
    _check_size(files)
    return strip_single_folder(files)


def strip_single_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    """`myenv/Dockerfile`, `myenv/app.py` -> `Dockerfile`, `app.py` (a zip or upload of one folder)."""
    tops = {p.split("/", 1)[0] for p in files}
    if len(tops) == 1 and all("/" in p for p in files):
        top = tops.pop() + "/"
        return {p[len(top) :]: b for p, b in files.items()}
    return files


def check(files: dict[str, bytes], dockerfile_path: str) -> str:
    """The context is usable: not empty, and has the Dockerfile. Returns the normalised path."""
    if not files:
        raise _invalid("The build context is empty: it needs at least a Dockerfile.")
    _check_size(files)
    dockerfile_path = safe_path(dockerfile_path or "Dockerfile")
    if dockerfile_path not in files:
        listed = ", ".join(sorted(files)[:8])
        raise _invalid(f"The build context has no {dockerfile_path} (it has: {listed}).")
    if not files[dockerfile_path].strip():
        raise _invalid(f"{dockerfile_path} is empty.")
    return dockerfile_path


def manifest(files: dict[str, bytes]) -> list[list]:
    """[[path, size, sha256], ...] sorted by path: what the spec hash and the page show."""
    return [[p, len(b), hashlib.sha256(b).hexdigest()] for p, b in sorted(files.items())]


def pack(files: dict[str, bytes]) -> bytes:
    """A deterministic zip (sorted names, fixed timestamps): equal contexts give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[path])
    return buffer.getvalue()


def unpack(archive: bytes, dest: Path) -> None:
    """Write a stored context to `dest` for a build (paths checked again: defence in depth)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            target = dest / safe_path(info.filename)
            if not target.resolve().is_relative_to(dest.resolve()):
                raise _invalid(f"{info.filename!r} leaves the build context.")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
