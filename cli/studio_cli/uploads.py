"""Streaming multipart uploads with a progress bar: the file is read in chunks while it is sent
(never held in memory), and the body has a known length so any WSGI server accepts it."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from studio_cli.client import Client
from studio_cli.output import stderr_console

CHUNK = 256 * 1024


class MultipartBody:
    """`fields` as form fields, then one file part; `read()` reports bytes sent to `on_read`."""

    def __init__(self, fields: dict[str, str], file_field: str, path: Path, filename: str, on_read=None):
        self.boundary = uuid.uuid4().hex
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
            + str(v).encode()
            + b"\r\n"
            for k, v in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._parts = [io.BytesIO(head), open(path, "rb"), io.BytesIO(f"\r\n--{self.boundary}--\r\n".encode())]
        self._length = len(head) + os.path.getsize(path) + len(self._parts[2].getvalue())
        self._on_read = on_read
        self._sent = 0

    def __len__(self) -> int:
        return self._length

    def __iter__(self):  # requests treats an iterable with a length as a streamed body
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
        while self._parts and len(out) < size:
            piece = self._parts[0].read(size - len(out))
            if not piece:
                self._parts.pop(0).close()
                continue
            out += piece
        self._sent += len(out)
        if self._on_read and out:
            self._on_read(len(out))
        return out

    def close(self) -> None:
        for part in self._parts:
            part.close()
        self._parts = []


def upload_file(
    client: Client,
    path: str,
    file: Path,
    *,
    label: str,
    fields: dict[str, str] | None = None,
    file_field: str = "file",
    filename: str | None = None,
    quiet: bool = False,
) -> Any:
    """POST `file` as multipart to `path`, showing a progress bar on stderr; returns the JSON answer."""
    console = stderr_console()
    show = not quiet
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not show,
    ) as progress:
        task = progress.add_task(label, total=None)
        body = MultipartBody(
            fields or {}, file_field, file, filename or file.name, on_read=lambda n: progress.advance(task, n)
        )
        progress.update(task, total=len(body))
        with body:
            return client.post(path, data=body, headers={"Content-Type": body.content_type})
