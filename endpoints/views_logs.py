"""A deployment's live logs for the page's log viewer (static/logviewer.js, shared with jobs): a
slice by character offset (JSON), a live tail (server-sent events that resume from
`Last-Event-ID`), and the whole log. The viewer's "file" is an instance id; its log is the scoring
server's output (which holds the scoring script's own prints and errors too), shipped by the
instance's node into a stream in the database (`endpoints.instance_logs`), so it reads the same
whichever machine the instance runs on."""

from __future__ import annotations

import json
import time

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.views import View

from endpoints import instance_logs
from endpoints.models import DeploymentInstance
from endpoints.views import EndpointMixin
from studio import logs, stream_connections

MAX_SLICE = 512 * 1024
MAX_EVENT = 256 * 1024
POLL = 0.1
CHECK_EVERY = 2.0
PING_EVERY = 15.0
MAX_CONNECTION = 300.0  # then the browser reconnects by itself, with Last-Event-ID
SKIP_BEYOND = 4 * 1024 * 1024


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


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
        stream = instance_logs.stream(instance.pk)
        limit = max(0, min(_int(request.GET.get("limit"), MAX_SLICE), MAX_SLICE))
        part = logs.read(stream, _int(request.GET.get("offset"), 0), limit)
        payload = {
            "file": str(instance.pk),
            "text": part.text,
            "offset": part.offset,
            "next_offset": part.next_offset,
            "size": part.size,
            "status": instance.status,
            "final": False,
        }
        if request.GET.get("lines") == "1":
            payload["line"] = logs.line_at(stream, part.offset)
        return JsonResponse(payload)


class _Tail:
    """One SSE connection's place in an instance's log."""

    def __init__(self, instance_pk: int, offset: int):
        self.instance_pk = instance_pk
        self.stream = instance_logs.stream(instance_pk)
        self.offset = offset
        self.started = self.last_sent = time.monotonic()
        self.last_check = 0.0
        self.status = ""
        self.done = False

    def step(self) -> str:
        out: list[str] = []
        deadline = time.monotonic() + 1.0
        while not out and time.monotonic() < deadline:
            size = logs.size(self.stream)
            if size < self.offset:  # a cursor from beyond the end: start over
                self.offset = 0
            if size - self.offset > SKIP_BEYOND:
                to = size - MAX_EVENT
                out.append(_event("skip", {"from": self.offset, "to": to}, to))
                self.offset = to
            if size > self.offset:
                part = logs.read(self.stream, self.offset, MAX_EVENT)
                if part.text:
                    out.append(_event("log", {"offset": part.offset, "text": part.text}, part.next_offset))
                    self.offset = part.next_offset
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
        tail = _Tail(instance.pk, max(0, offset))
        body = _async_events(tail) if isinstance(request, ASGIRequest) else _sync_events(tail)
        response = StreamingHttpResponse(body, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


class DeploymentLogDownloadView(_InstanceLogMixin, View):
    def get(self, request, workspace, name, deployment):
        instance = self.get_instance()
        stream = instance_logs.stream(instance.pk)
        if not logs.size(stream):
            raise Http404("This instance has written no log yet.")
        filename = f"{name}-{deployment}-{instance.pk}.log"
        response = StreamingHttpResponse(logs.iter_all(stream), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
