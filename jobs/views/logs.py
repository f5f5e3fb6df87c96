"""The log viewer's endpoints: a slice by offset (JSON), a live stream (server-sent events, which
resume from `Last-Event-ID` after any disconnect or server restart), full downloads, and files."""

from __future__ import annotations

import json
import mimetypes
import time

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import FileResponse, Http404, JsonResponse, StreamingHttpResponse
from django.views import View

from jobs import artifacts, code, logfiles
from jobs.models import FINAL_STATUSES, Job
from jobs.views.base import JobMixin
from studio import logs, stream_connections

POLL = 0.05
STATUS_EVERY = 1.0
PING_EVERY = 15.0
MAX_CONNECTION = 300.0  # then the browser reconnects (with Last-Event-ID) by itself
MAX_EVENT_CHARS = 256 * 1024
SKIP_BEYOND = 4 * 1024 * 1024  # a reader further behind than this jumps to the tail


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class LogSliceView(JobMixin, View):
    """GET ?file=&offset=&limit= -> {"text", "offset", "next_offset", "size", "status", "final"}."""

    def get(self, request, workspace, name):
        job = self.get_object()
        path = logfiles.check_file(request.GET.get("file", ""))
        offset = _int(request.GET.get("offset"), 0)
        limit = _int(request.GET.get("limit"), 256 * 1024)
        with_line = request.GET.get("lines") == "1"
        return JsonResponse(logfiles.slice_payload(job, path, offset, limit, with_line=with_line))


class _Tail:
    """The state of one SSE connection: where it is in the stream and what it last said."""

    def __init__(self, job_id: int, stream: str, offset: int):
        self.job_id = job_id
        self.stream = stream
        self.offset = offset
        self.status = ""
        self.started = time.monotonic()
        self.last_status = 0.0
        self.last_sent = time.monotonic()
        self.done = False

    def step(self) -> str:
        """Wait up to about a second for something to say; returns SSE text ('' for nothing)."""
        out = []
        deadline = time.monotonic() + 1.0
        while not out and time.monotonic() < deadline:
            size = logs.size(self.stream)
            if self.offset < 0:
                self.offset = max(0, size + self.offset)
            if size - self.offset > SKIP_BEYOND:
                new_offset = size - MAX_EVENT_CHARS
                out.append(_event("skip", {"from": self.offset, "to": new_offset}, new_offset))
                self.offset = new_offset
            if size > self.offset:
                part = logs.read(self.stream, self.offset, MAX_EVENT_CHARS)
                self.offset = part.next_offset
                out.append(_event("log", {"offset": part.offset, "text": part.text}, self.offset))
            now = time.monotonic()
            if now - self.last_status >= STATUS_EVERY:
                self.last_status = now
                status = Job.objects.filter(pk=self.job_id).values_list("status", flat=True).first()
                if status is None:
                    self.done = True
                    return "event: end\ndata: {}\n\n"
                if status != self.status:
                    self.status = status
                    out.append(_event("status", {"status": status}, self.offset))
                if status in FINAL_STATUSES and logs.size(self.stream) <= self.offset:
                    out.append(_event("end", {"status": status}, self.offset))
                    self.done = True
                    break
            if not out:
                stream_connections.release(pooled_only=True)  # a pooled one serves others meanwhile
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


class LogStreamView(JobMixin, View):
    """GET ?file=&offset= as text/event-stream. `Last-Event-ID` (the offset after the last event
    the browser got) wins over ?offset=, so a reconnecting EventSource resumes exactly."""

    def get(self, request, workspace, name):
        job = self.get_object()
        path = logfiles.check_file(request.GET.get("file", ""))
        offset = _int(request.headers.get("Last-Event-ID"), _int(request.GET.get("offset"), 0))
        tail = _Tail(job.pk, job.log_stream(path), offset)
        if isinstance(request, ASGIRequest):
            body = _async_events(tail)
        else:
            body = _sync_events(tail)
        response = StreamingHttpResponse(body, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


def _sync_events(tail: _Tail):
    yield "retry: 1500\n\n"
    while not tail.done:
        text = tail.step()
        if text:
            yield text


def _step_and_release(tail: _Tail) -> str:
    """One step in a worker thread of the event loop; its database connection is released after
    (those threads are shared by every stream, so none may keep a connection for long)."""
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


class LogDownloadView(JobMixin, View):
    def get(self, request, workspace, name):
        job = self.get_object()
        path = logfiles.check_file(request.GET.get("file", ""))
        response = StreamingHttpResponse(logfiles.iter_all(job, path), content_type="text/plain; charset=utf-8")
        filename = f"{job.name}-{path.replace('/', '_')}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class OutputDownloadView(JobMixin, View):
    def get(self, request, workspace, name, path):
        target = artifacts.open_output(self.get_object(), path)
        if target is None:
            raise Http404("No such output file.")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return FileResponse(open(target, "rb"), as_attachment=True, filename=target.name, content_type=kind)


class CodeFileView(JobMixin, View):
    def get(self, request, workspace, name, path):
        job = self.get_object()
        target = code.open_file(job.code, path) if job.code_id else None
        if target is None:
            raise Http404("No such file in the code snapshot.")
        return FileResponse(open(target, "rb"), as_attachment=True, filename=target.name)
