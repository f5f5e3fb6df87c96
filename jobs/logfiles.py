"""A job's log files (`user_logs/std_log.txt`, `system_logs/...`): durable chunked streams in
studio.logs, named `job/<job id>/<path>`. Reading is by character offset (a cursor), negative
offsets read the tail."""

from __future__ import annotations

import re

from django.http import Http404

from studio import logs
from studio.models import LogChunk

DEFAULT_FILE = "user_logs/std_log.txt"
FILE_RULE = re.compile(r"^(user_logs|system_logs)/[A-Za-z0-9_./-]{1,200}$")
MAX_READ = 1024 * 1024


def check_file(path: str) -> str:
    path = (path or DEFAULT_FILE).strip().lstrip("/")
    if not FILE_RULE.match(path) or ".." in path.split("/"):
        raise Http404("No such log file.")
    return path


def list_files(job) -> list[dict]:
    """[{"path", "size"}] of the job's log files, user logs first (std_log.txt always listed)."""
    prefix = job.log_prefix
    names = set(LogChunk.objects.filter(stream__startswith=prefix).values_list("stream", flat=True).distinct())
    paths = {name[len(prefix) :] for name in names} | {DEFAULT_FILE}
    ordered = sorted(paths, key=lambda p: (not p.startswith("user_logs/"), p))
    return [{"path": p, "size": logs.size(prefix + p)} for p in ordered]


def read(job, path: str, offset: int = 0, limit: int = 256 * 1024) -> logs.LogSlice:
    return logs.read(job.log_stream(check_file(path)), offset, max(1, min(limit, MAX_READ)))


def slice_payload(job, path: str, offset: int = 0, limit: int = 256 * 1024, with_line: bool = False) -> dict:
    """The log viewer's and the API's answer for one slice: the text, the cursor and whether the
    reader has reached the end of a finished job's log. `with_line` (`?lines=1`) adds the number
    of the line at `offset`, for line numbers; it counts every earlier line, so followers that poll
    (the CLI) do not ask for it."""
    part = read(job, path, offset, limit)
    payload = {
        "file": path,
        "text": part.text,
        "offset": part.offset,
        "next_offset": part.next_offset,
        "size": part.size,
        "status": job.status,
        "final": job.is_final and part.next_offset >= part.size,
    }
    if with_line:
        payload["line"] = logs.line_at(job.log_stream(check_file(path)), part.offset)
    return payload


def iter_all(job, path: str, block: int = 1024 * 1024):
    """The whole file in pieces (for downloads), without loading it all at once."""
    return logs.iter_all(job.log_stream(check_file(path)), block)
