"""Following a job in the terminal: its log as it is written (the same `?offset=` cursor the
browser's log viewer uses), status changes on stderr, then the final status and a link."""

from __future__ import annotations

import sys
import time

from studio_cli.context import Context
from studio_cli.output import info

FINAL = {"Completed": 0, "Failed": 1, "Canceled": 2}
POLL_SECONDS = 1.0


def exit_code_for(status: str) -> int:
    return FINAL.get(status, 1)


def follow(ctx: Context, name: str, *, poll: float = POLL_SECONDS) -> int:
    """Print the job's log until it ends; return 0 for Completed, 1 for Failed, 2 for Canceled.
    Each answer of `/logs/?offset=` carries the job's status, so one request a second suffices."""
    offset = 0
    status = None
    try:
        while True:
            chunk = ctx.client.get(ctx.ws_path("jobs", name, "logs"), params={"offset": offset})
            if chunk.get("status") != status:
                status = chunk.get("status")
                if status not in FINAL:
                    info(f"[{time.strftime('%H:%M:%S')}] {name}: {status}{_reason(_job_if_waiting(ctx, name, status))}")
            text = chunk.get("text") or ""
            if text:
                sys.stdout.write(text)
                sys.stdout.flush()
            offset = chunk.get("next_offset", offset + len(text))
            if chunk.get("final"):
                break
            if not text:
                time.sleep(poll)
    except KeyboardInterrupt:
        info(f"\nStopped following; the job goes on. Follow it again: studio job stream --name {name}")
        raise
    job = ctx.client.get(ctx.ws_path("jobs", name))
    status = job.get("status") or status or ""
    info(f"[{time.strftime('%H:%M:%S')}] {name}: {status}")
    info(f"Job {name} ended: {status}{_reason(job)}")
    info(f"See it at {job_link(ctx, job)}")
    return exit_code_for(status)


def _job_if_waiting(ctx: Context, name: str, status: str | None) -> dict:
    """The job's details when its status has a reason worth showing (a wait in the queue)."""
    return ctx.client.get(ctx.ws_path("jobs", name)) if status == "Queued" else {}


def job_link(ctx: Context, job: dict) -> str:
    link = job.get("url") or job.get("web_url") or job.get("studio_url")
    if link:
        return link if link.startswith("http") else ctx.client.url + link
    return ctx.page_url("jobs", job.get("name", ""))


def _reason(job: dict) -> str:
    if job.get("status") in ("Failed", "Canceled") and job.get("failure_reason"):
        return f" ({job['failure_reason']})"
    if job.get("status") == "Queued" and job.get("wait_reason"):
        return f" ({job['wait_reason']})"
    return ""
