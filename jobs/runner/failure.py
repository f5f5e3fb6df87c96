"""Saying why a job failed: the telling lines at the end of its log, and a hint where we know one."""

from __future__ import annotations

import re

from studio import logs
from studio.text import strip_ansi

TAIL_CHARS = 64 * 1024
MAX_EXCERPT_LINES = 12
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)|KeyboardInterrupt)\b(:.*)?$")
MODULE_MISSING = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
ERROR_WORDS = re.compile(r"\b(error|fatal|failed|exception|traceback|killed|not found)\b", re.I)


def last_lines(stream: str, chars: int = TAIL_CHARS) -> list[str]:
    text = logs.read(stream, -chars, limit=chars).text
    # splitlines() also splits at a bare \r, so each step of a progress bar is its own line.
    lines = [strip_ansi(line) for line in text.splitlines()]
    return [line for line in lines if line.strip()]


def error_excerpt(lines: list[str]) -> str:
    """The last traceback (from "Traceback" to the exception line), else the last lines that look
    like errors, else the last few lines."""
    for end in range(len(lines) - 1, -1, -1):
        if EXCEPTION_LINE.match(lines[end]):
            start = end
            while start > 0 and not lines[start].startswith("Traceback") and end - start < 40:
                start -= 1
            if not lines[start].startswith("Traceback"):
                start = end
            chunk = lines[start : end + 1]
            if len(chunk) > MAX_EXCERPT_LINES:
                chunk = chunk[:2] + ["  ..."] + chunk[-(MAX_EXCERPT_LINES - 3) :]
            return "\n".join(chunk)
    flagged = [line for line in lines[-40:] if ERROR_WORDS.search(line)]
    return "\n".join((flagged or lines)[-5:])


def exception_line(lines: list[str], limit: int = 300) -> str:
    """The last Python exception line (`ValueError: learning rate must be > 0`), "" when none."""
    for line in reversed(lines[-200:]):
        if EXCEPTION_LINE.match(line.strip()) and not line.startswith(" "):
            return line.strip()[:limit]
    return ""


def explain_exit(job, exit_code: int, lines: list[str]) -> tuple[str, str]:
    """(failure reason, error excerpt) for a command that exited with `exit_code`."""
    excerpt = error_excerpt(lines)
    raised = exception_line(lines)
    reason = (
        f"{raised} (the command exited with code {exit_code})"
        if raised
        else f"The command exited with code {exit_code}."
    )
    missing = MODULE_MISSING.search(excerpt) or next((m for m in map(MODULE_MISSING.search, lines[-50:]) if m), None)
    if missing:
        module = missing[1].split(".")[0]
        reason = (
            f"ModuleNotFoundError: No module named '{missing[1]}'. The environment {job.environment_label} "
            f"does not have it: add the package that provides '{module}' to the environment's conda file or "
            "pip requirements (a new version), then submit the job again with that version."
        )
    elif exit_code == 137:
        reason = "The command was killed (exit code 137, SIGKILL); it may have run out of memory."
    elif exit_code == 127 and any("command not found" in line for line in lines[-5:]):
        reason = "The command was not found (exit code 127): check the command and the environment's PATH."
    elif exit_code > 128:
        reason = f"The command was stopped by signal {exit_code - 128} (exit code {exit_code})."
    return reason, excerpt
