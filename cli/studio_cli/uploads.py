"""Streaming multipart uploads with a progress bar: files are read in chunks while they are sent
(never held in memory), and the body has a known length so any WSGI server accepts it."""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio_cli.output import info, stderr_console
from studio_cli.packaging import zip_folder

if TYPE_CHECKING:
    from rich.progress import Progress

    from studio_cli.client import Client

CHUNK = 256 * 1024
FilePart = tuple[str, Path, str]  # form field, local file, file name sent (may hold folders: "a/b.csv")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartBody:
    """`fields` as form fields, then the file parts; `read()` reports bytes sent to `on_read`.
    Requests sends it as a stream with a Content-Length (it has `__len__`, `read` and `tell`)."""

    def __init__(self, fields: dict[str, str], files: list[FilePart], on_read: Callable[[int], Any] | None = None):
        boundary = uuid.uuid4().hex
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(k)}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        self._parts: list[Any] = [head]
        for field, path, filename in files:
            self._parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(field)}"; '
                f'filename="{_quote(filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            )
            self._parts.append(path)
            self._parts.append(b"\r\n")
        self._parts.append(f"--{boundary}--\r\n".encode())
        self._length = sum(os.path.getsize(p) if isinstance(p, Path) else len(p) for p in self._parts)
        self._current: io.BufferedIOBase | None = None
        self._on_read = on_read
        self._sent = 0

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK):
            yield chunk

    def __enter__(self) -> MultipartBody:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def tell(self) -> int:
        return self._sent

    def read(self, size: int = -1) -> bytes:
        size = CHUNK if size is None or size < 0 else size
        out = b""
        while len(out) < size and (self._current is not None or self._parts):
            if self._current is None:
                part = self._parts.pop(0)
                self._current = open(part, "rb") if isinstance(part, Path) else io.BytesIO(part)
            piece = self._current.read(size - len(out))
            if not piece:
                self._current.close()
                self._current = None
                continue
            out += piece
        self._sent += len(out)
        if self._on_read and out:
            self._on_read(len(out))
        return out

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        self._parts = []


def progress_bar() -> Progress:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
    )


def upload_files(
    client: Client,
    path: str,
    files: list[FilePart],
    *,
    label: str,
    fields: dict[str, str] | None = None,
    params: dict | None = None,
) -> Any:
    """POST `files` (and `fields`) as one multipart request to `path`, showing a progress bar on
    stderr; returns the JSON answer."""
    with progress_bar() as progress:
        task = progress.add_task(label, total=None)
        with MultipartBody(fields or {}, files, on_read=lambda n: progress.advance(task, n)) as body:
            progress.update(task, total=len(body))
            return client.post(path, data=body, headers={"Content-Type": body.content_type}, params=params)


def upload_file(
    client: Client,
    path: str,
    file: Path,
    *,
    label: str,
    field: str = "file",
    filename: str | None = None,
    fields: dict[str, str] | None = None,
) -> Any:
    return upload_files(client, path, [(field, file, filename or file.name)], label=label, fields=fields)


def upload_zipped_folder(
    client: Client,
    path: str,
    folder: Path,
    *,
    what: str,
    label: str,
    filename: str,
    field: str = "file",
    fields: dict[str, str] | None = None,
) -> Any:
    """Zip `folder` into a temporary file and upload it as `filename`; returns the JSON answer."""
    with tempfile.TemporaryDirectory(prefix="studio-upload-") as tmp:
        packed = zip_folder(folder, Path(tmp) / filename)
        info(f"{what}: {packed.files} files from {folder}")
        return upload_file(client, path, packed.path, label=label, field=field, filename=filename, fields=fields)
