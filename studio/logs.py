"""Durable, tail-able log streams stored as ordered chunks (see models.LogChunk).

Writers append text as it arrives (`LogWriter`, which batches lines for a fraction of a second);
readers ask for everything after a character offset (`read`), which is what `?offset=N` and SSE
`Last-Event-ID` cursors carry. Text is sanitised on the way in: NUL bytes stripped, known secrets
masked, each stream capped in size.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Sum, Value
from django.db.models.functions import Length, Replace

from studio.models import LogChunk

MAX_STREAM_CHARS = 200 * 1024 * 1024
MAX_CHUNK_CHARS = 256 * 1024
MASK = "***"


def sanitise(text: str, secrets: Iterable[str] = ()) -> str:
    text = text.replace("\x00", "")
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


@dataclass
class LogSlice:
    text: str
    offset: int  # where `text` starts
    next_offset: int  # pass back as ?offset= to continue
    size: int  # total characters stored so far


def size(stream: str) -> int:
    last = LogChunk.objects.filter(stream=stream).order_by("-seq").values("start", "text").first()
    return last["start"] + len(last["text"]) if last else 0


def read(stream: str, offset: int = 0, limit: int = 1024 * 1024) -> LogSlice:
    """Up to `limit` characters from `offset` on. A negative offset means "the last -offset
    characters" (a tail), which is how a viewer opens a huge log without loading all of it."""
    total = size(stream)
    if offset < 0:
        offset = max(0, total + offset)
    offset = min(offset, total)
    chunks = (
        LogChunk.objects.filter(stream=stream, start__lt=offset + limit)
        .filter(start__gte=_first_chunk_start(stream, offset))
        .order_by("seq")
        .values_list("start", "text")
    )
    parts: list[str] = []
    taken = 0
    for start, text in chunks:
        piece = text[max(0, offset - start) :]
        if not piece:
            continue
        piece = piece[: limit - taken]
        parts.append(piece)
        taken += len(piece)
        if taken >= limit:
            break
    return LogSlice(text="".join(parts), offset=offset, next_offset=offset + taken, size=total)


def _first_chunk_start(stream: str, offset: int) -> int:
    row = LogChunk.objects.filter(stream=stream, start__lte=offset).aggregate(m=Max("start"))
    return row["m"] or 0


def line_at(stream: str, offset: int) -> int:
    """The 1-based number of the line holding character `offset` (for line numbers in a viewer
    that opened at the tail). Whole chunks are counted in the database; their text never travels."""
    start = _first_chunk_start(stream, offset)
    before = LogChunk.objects.filter(stream=stream, start__lt=start).aggregate(
        n=Sum(Length("text") - Length(Replace("text", Value("\n"), Value(""))))
    )["n"]
    head = LogChunk.objects.filter(stream=stream, start=start).values_list("text", flat=True).first() or ""
    return (before or 0) + head[: max(0, offset - start)].count("\n") + 1


def iter_all(stream: str, block: int = 1024 * 1024):
    """The whole stream in pieces (for downloads), without loading it all at once."""
    offset = 0
    while True:
        part = read(stream, offset, block)
        if not part.text:
            return
        yield part.text
        offset = part.next_offset


def read_all(stream: str) -> str:
    return "".join(LogChunk.objects.filter(stream=stream).order_by("seq").values_list("text", flat=True))


def append(stream: str, text: str, secrets: Iterable[str] = ()) -> int:
    """Append `text` now (one chunk, split if large). Returns the new size of the stream."""
    text = sanitise(text, secrets)
    if not text:
        return size(stream)
    with transaction.atomic():
        last = LogChunk.objects.select_for_update().filter(stream=stream).order_by("-seq").first()
        seq = last.seq + 1 if last else 0
        start = last.start + len(last.text) if last else 0
        if start >= MAX_STREAM_CHARS:
            return start
        if start + len(text) > MAX_STREAM_CHARS:
            text = text[: MAX_STREAM_CHARS - start] + "\n[log truncated: size limit reached]\n"
        rows = []
        for i in range(0, len(text), MAX_CHUNK_CHARS):
            piece = text[i : i + MAX_CHUNK_CHARS]
            rows.append(LogChunk(stream=stream, seq=seq, start=start, text=piece))
            seq += 1
            start += len(piece)
        LogChunk.objects.bulk_create(rows)
        return start


def delete(stream_prefix: str) -> None:
    LogChunk.objects.filter(stream__startswith=stream_prefix).delete()


class LogWriter:
    """Collects text from a producer (a pipe reader, a build) and flushes it to the stream every
    `interval` seconds from a background thread, so a log is durable within that interval without
    one database write per line. Use as a context manager; `close()` flushes the rest."""

    def __init__(self, stream: str, *, interval: float = 0.1, secrets: Iterable[str] = ()):
        self.stream = stream
        self.interval = interval
        self.secrets = list(secrets)
        self._buffer: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"log:{stream}", daemon=True)
        self._thread.start()

    def write(self, text: str) -> None:
        with self._lock:
            self._buffer.append(text)

    def flush(self) -> None:
        with self._lock:
            text, self._buffer = "".join(self._buffer), []
        if text:
            append(self.stream, text, self.secrets)

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(self.interval):
                self.flush()
        finally:
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def wait_for_growth(stream: str, offset: int, timeout: float, poll: float = 0.1) -> int:
    """Block until the stream is longer than `offset` or `timeout` passes; returns its size."""
    deadline = time.monotonic() + timeout
    current = size(stream)
    while current <= offset and time.monotonic() < deadline:
        time.sleep(poll)
        current = size(stream)
    return current
