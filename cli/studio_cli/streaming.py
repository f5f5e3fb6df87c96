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


def follow_pipeline(ctx: Context, name: str, *, poll: float = POLL_SECONDS) -> int:
    """Follow every step of a pipeline: each step's state changes (with why it ran or was
    reused) on stderr, and the log lines of the steps that run, prefixed with the step's name."""
    states: dict[str, str] = {}
    offsets: dict[str, int] = {}
    done: set[str] = set()
    try:
        while True:
            job = ctx.client.get(ctx.ws_path("jobs", name))
            steps = ctx.client.get(ctx.ws_path("jobs", name, "steps"))
            for step in steps:
                step_name, state = step["name"], step["state"]
                if states.get(step_name) != state:
                    states[step_name] = state
                    why = step.get("explanation") or step.get("reason") or ""
                    via = f" (job {step['job']})" if step.get("job") else ""
                    info(
                        f"[{time.strftime('%H:%M:%S')}] {name} / {step_name}: {state}{via}{' - ' + why if why else ''}"
                    )
                child = step.get("job")
                if child and step_name not in done:
                    _print_step_log(ctx, step_name, child, offsets)
                    if state not in ("waiting", "running"):
                        done.add(step_name)
            if job.get("status") in FINAL:
                break
            time.sleep(poll)
    except KeyboardInterrupt:
        info(f"\nStopped following; the pipeline goes on. Follow it again: studio job stream --name {name}")
        raise
    status = job.get("status") or ""
    info(f"Pipeline {name} ended: {status}{_reason(job)}")
    info(f"See it at {job_link(ctx, job)}")
    return exit_code_for(status)


def _print_step_log(ctx: Context, step: str, child: str, offsets: dict[str, int]) -> None:
    while True:
        chunk = ctx.client.get(ctx.ws_path("jobs", child, "logs"), params={"offset": offsets.get(step, 0)})
        text = chunk.get("text") or ""
        if not text:
            return
        for line in text.splitlines():
            sys.stdout.write(f"[{step}] {line}\n")
        sys.stdout.flush()
        offsets[step] = chunk.get("next_offset", offsets.get(step, 0) + len(text))


def follow_sweep(ctx: Context, name: str, *, poll: float = POLL_SECONDS) -> int:
    """Follow a sweep: each trial's start and end (with its values and metric) and the best trial
    so far on stderr, one line each, until the sweep ends."""
    states: dict[int, str] = {}
    best = None
    try:
        while True:
            job = ctx.client.get(ctx.ws_path("jobs", name))
            for trial in ctx.client.get(ctx.ws_path("jobs", name, "trials")):
                number, state = trial["number"], trial["state"]
                if trial.get("job_status") == "NotStarted" and state == "running":
                    continue  # the sweep's next trial, made ready ahead: it starts when a slot frees
                if number not in states:
                    values = ", ".join(f"{k}={v}" for k, v in trial["params"].items())
                    info(f"[{time.strftime('%H:%M:%S')}] {name}: trial {number} started ({trial['job']}: {values})")
                if state != "running" and states.get(number) != state:
                    value = "" if trial["value"] is None else f", value {trial['value']:g}"
                    why = f" ({trial['terminated_by']})" if trial.get("terminated_by") else ""
                    info(f"[{time.strftime('%H:%M:%S')}] {name}: trial {number} {state.replace('_', ' ')}{value}{why}")
                states[number] = state
                if trial["best"] and best != (number, trial["value"]):
                    best = (number, trial["value"])
                    info(f"[{time.strftime('%H:%M:%S')}] {name}: best so far: trial {number}, value {trial['value']:g}")
            if job.get("status") in FINAL:
                break
            time.sleep(poll)
    except KeyboardInterrupt:
        info(f"\nStopped following; the sweep goes on. Follow it again: studio job stream --name {name}")
        raise
    status = job.get("status") or ""
    info(f"Sweep {name} ended: {status}{_reason(job)}")
    info(f"See it at {job_link(ctx, job)}")
    return exit_code_for(status)
