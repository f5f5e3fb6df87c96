"""A deployment's live logs for the page's log viewer (static/logviewer.js, shared with jobs): a
slice by byte offset (JSON), a live tail (server-sent events that resume from `Last-Event-ID`),
and the whole file. The viewer's "file" is an instance id; its log is the scoring server's
output, which holds the scoring script's own prints and errors too."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import FileResponse, Http404, JsonResponse, StreamingHttpResponse
from django.views import View

from endpoints import instances
from endpoints.models import DeploymentInstance
from endpoints.runtimes import open_log
from endpoints.views import EndpointMixin

MAX_SLICE = 512 * 1024
MAX_EVENT = 256 * 1024
POLL = 0.1
CHECK_EVERY = 2.0
PING_EVERY = 15.0
MAX_CONNECTION = 300.0  # then the browser reconnects by itself, with Last-Event-ID
SKIP_BEYOND = 4 * 1024 * 1024
LINE_COUNT_LIMIT = 64 * 1024 * 1024


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _size(path: Path) -> int:
    try:
        found = path.lstat()  # a symlink the server planted is no log (open_log refuses it too)
        return found.st_size if stat.S_ISREG(found.st_mode) else 0
    except OSError:
        return 0


def _read(path: Path, offset: int, limit: int) -> bytes:
    try:
        with open_log(path) as f:
            f.seek(offset)
            return f.read(limit)
    except OSError:
        return b""


def _whole_utf8(chunk: bytes) -> bytes:
    """Drop an incomplete UTF-8 sequence at the end (it is read whole next time)."""
    for back in range(1, min(4, len(chunk)) + 1):
        byte = chunk[-back]
        if byte & 0xC0 == 0x80:
            continue  # a continuation byte: look further back for the lead byte
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte & 0xF8 == 0xF0 else 1
        return chunk[:-back] if need > back else chunk
    return chunk


def _line_at(path: Path, offset: int) -> int:
    """The number of the line at `offset` (0 when the log is too long to count cheaply)."""
    if offset > LINE_COUNT_LIMIT:
        return 0
    count, done = 1, 0
    with open_log(path) as f:
        while done < offset:
            block = f.read(min(1024 * 1024, offset - done))
            if not block:
                break
            count += block.count(b"\n")
            done += len(block)
    return count


class _InstanceLogMixin(EndpointMixin):
    def get_instance(self) -> DeploymentInstance:
        endpoint = self.get_endpoint()
        found = DeploymentInstance.objects.filter(
            deployment__endpoint=endpoint,
            deployment__name=self.kwargs["deployment"],
            pk=_int(self.request.GET.get("file"), 0),
        ).first()
        if found is None:
            raise Http404("No such instance of this deployment (it may have been replaced).")
        return found


class DeploymentLogSliceView(_InstanceLogMixin, View):
    """GET ?file=<instance>&offset=&limit=&lines=1 -> {"text", "offset", "next_offset", "size",
    "status", "final", "line"}; a negative offset reads the tail."""

    def get(self, request, workspace, name, deployment):
        instance = self.get_instance()
        path = instances.log_path(instance)
        size = _size(path)
        offset = _int(request.GET.get("offset"), 0)
        limit = max(0, min(_int(request.GET.get("limit"), MAX_SLICE), MAX_SLICE))
        if offset < 0:
            offset = max(0, size + offset)
        offset = min(offset, size)
        chunk = _whole_utf8(_read(path, offset, limit))
        payload = {
            "file": str(instance.pk),
            "text": chunk.decode(errors="replace"),
            "offset": offset,
            "next_offset": offset + len(chunk),
            "size": size,
            "status": instance.status,
            "final": False,
        }
        if request.GET.get("lines") == "1":
            payload["line"] = _line_at(path, offset) if size else 1
        return JsonResponse(payload)


class _Tail:
    """One SSE connection's place in an instance's log."""

    def __init__(self, instance_pk: int, path: Path, offset: int):
        self.instance_pk = instance_pk
        self.path = path
        self.offset = offset
        self.started = self.last_sent = time.monotonic()
        self.last_check = 0.0
        self.status = ""
        self.done = False

    def step(self) -> str:
        out: list[str] = []
        deadline = time.monotonic() + 1.0
        while not out and time.monotonic() < deadline:
            size = _size(self.path)
            if size < self.offset:  # the file was replaced: start over
                self.offset = 0
            if size - self.offset > SKIP_BEYOND:
                to = size - MAX_EVENT
                out.append(_event("skip", {"from": self.offset, "to": to}, to))
                self.offset = to
            if size > self.offset:
                chunk = _whole_utf8(_read(self.path, self.offset, MAX_EVENT))
                if chunk:
                    out.append(
                        _event(
                            "log",
                            {"offset": self.offset, "text": chunk.decode(errors="replace")},
                            self.offset + len(chunk),
                        )
                    )
                    self.offset += len(chunk)
            now = time.monotonic()
            if now - self.last_check >= CHECK_EVERY:
                self.last_check = now
                status = DeploymentInstance.objects.filter(pk=self.instance_pk).values_list("status", flat=True).first()
                if status is None:  # replaced by an update, or the deployment was deleted
                    out.append(_event("end", {"status": "replaced"}, self.offset))
                    self.done = True
                    break
                if status != self.status:
                    self.status = status
                    out.append(_event("status", {"status": status}, self.offset))
            if not out:
                time.sleep(POLL)
        if time.monotonic() - self.started > MAX_CONNECTION:
            self.done = True
        if not out and time.monotonic() - self.last_sent > PING_EVERY:
            out.append(": ping\n\n")
        if out:
            self.last_sent = time.monotonic()
        return "".join(out)


def _event(kind: str, data: dict, event_id: int) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"


def _sync_events(tail: _Tail):
    yield "retry: 1500\n\n"
    while not tail.done:
        text = tail.step()
        if text:
            yield text


def _step_and_release(tail: _Tail) -> str:
    try:
        return tail.step()
    finally:
        close_old_connections()


async def _async_events(tail: _Tail):
    yield "retry: 1500\n\n"
    step = sync_to_async(_step_and_release, thread_sensitive=False)
    while not tail.done:
        text = await step(tail)
        if text:
            yield text


class DeploymentLogStreamView(_InstanceLogMixin, View):
    """GET ?file=<instance>&offset= as text/event-stream; `Last-Event-ID` wins over ?offset=."""

    def get(self, request, workspace, name, deployment):
        instance = self.get_instance()
        offset = _int(request.headers.get("Last-Event-ID"), _int(request.GET.get("offset"), 0))
        tail = _Tail(instance.pk, instances.log_path(instance), max(0, offset))
        body = _async_events(tail) if isinstance(request, ASGIRequest) else _sync_events(tail)
        response = StreamingHttpResponse(body, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


class DeploymentLogDownloadView(_InstanceLogMixin, View):
    def get(self, request, workspace, name, deployment):
        instance = self.get_instance()
        path = instances.log_path(instance)
        try:
            log = open_log(path)
        except OSError:
            raise Http404("This instance has written no log yet.") from None
        filename = f"{name}-{deployment}-{instance.pk}.log"
        return FileResponse(log, as_attachment=True, filename=filename, content_type="text/plain")
