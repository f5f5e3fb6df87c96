"""Template helpers of the jobs pages."""

from __future__ import annotations

from datetime import timedelta

from django import template

from jobs.models import JobStatus

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """A job status as people read it ("Not started" for NotStarted)."""
    return str(dict(JobStatus.choices).get(status, status))


@register.filter
def duration(value) -> str:
    """A timedelta or seconds as `2h 03m`, `4m 05s`, `12.3s`."""
    if value is None or value == "":
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


@register.filter
def filesize(value) -> str:
    size = float(value or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@register.filter
def get(mapping, key):
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def basename(path: str) -> str:
    return str(path).rsplit("/", 1)[-1]


@register.filter
def dirname(path: str) -> str:
    return str(path).rsplit("/", 1)[0] if "/" in str(path) else ""
