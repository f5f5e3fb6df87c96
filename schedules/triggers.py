"""Azure ML schedule triggers (`cron` and `recurrence`), validated with the line of each key, turned
into django-celery-beat schedules (crontab or interval), and their next run times.

Beat decides when a schedule fires; `next_runs` asks the same celery schedule objects beat uses,
so the page shows what beat will do.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from celery.schedules import crontab, crontab_parser
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.tzcrontab import TzAwareCrontab
from tzlocal.windows_tz import win_tz

from schedules.schema import CronTriggerSpec, RecurrencePatternSpec, RecurrenceTriggerSpec
from studio.schema import refuse_unknown_keys

FREQUENCIES = ("minute", "hour", "day", "week", "month")
WEEK_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")  # cron's 0..6
# Cron fields in Azure ML's (and crontab's) order, with celery's parser bounds.
CRON_FIELDS = (
    ("minute", 60, 0),
    ("hour", 24, 0),
    ("day of month", 31, 1),
    ("month", 12, 1),
    ("day of week", 7, 0),
)
MAX_INTERVAL = {"minute": 60 * 24 * 366, "hour": 24 * 366, "day": 3660, "week": 520, "month": 120}


def where(data: Any, key: str, source: str) -> str:
    line = getattr(data, "lines", {}).get(key)
    return f"{source}, line {line}" if line else source


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())  # walks the tz database: once per process


def zone_for(name: str) -> ZoneInfo:
    """An IANA zone (`Europe/Berlin`) or a Windows one as Azure ML writes them (`Pacific Standard
    Time`); ValueError when it is neither."""
    name = name.strip()
    iana = name if name in _zone_names() else win_tz.get(name, name)
    if iana not in _zone_names() and iana != "UTC":
        raise ValueError(name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(name) from None


def _time(value: Any, zone: ZoneInfo, field: str, at: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _refuse(field, f"{at}: {value!r} is not a date and time such as 2026-07-10T10:00:00.") from None
    else:
        raise _refuse(field, f"{at}: give a date and time such as 2026-07-10T10:00:00, not {value!r}.")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _whole(value: Any, field: str, at: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _refuse(field, f"{at}: {field} must be a whole number from {lo} to {hi}, not {value!r}.")
    if int(value) != value or not lo <= value <= hi:
        raise _refuse(field, f"{at}: {field} must be a whole number from {lo} to {hi}, not {value!r}.")
    return int(value)


@dataclass
class Trigger:
    """A validated trigger. `cron` is the five crontab fields beat runs (cron triggers and
    recurrences that name their days and times); `every` the period of the others."""

    type: str
    zone: ZoneInfo
    start: datetime | None
    end: datetime | None
    cron: tuple[str, str, str, str, str] | None = None  # minute, hour, day of month, month, day of week
    every: timedelta | None = None
    raw: dict | None = None

    @property
    def time_zone(self) -> str:
        return self.zone.key

    def crontab(self) -> TzAwareCrontab:
        assert self.cron is not None
        minute, hour, day_of_month, month, day_of_week = self.cron
        return TzAwareCrontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month,
            day_of_week=day_of_week,
            tz=self.zone,
        )

    def describe(self) -> str:
        """In words, for lists and the schedule page."""
        if self.every is not None:
            seconds = int(self.every.total_seconds())
            for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
                if seconds % size == 0:
                    count = seconds // size
                    return f"every {unit}" if count == 1 else f"every {count} {unit}s"
        assert self.cron is not None
        try:
            from cron_descriptor import get_description

            text = get_description(" ".join(self.cron))
        except Exception:  # noqa: BLE001 - a description is a nicety; the expression is shown anyway
            text = " ".join(self.cron)
        return f"{text} ({self.time_zone})"

    def next_runs(
        self,
        count: int = 5,
        *,
        after: datetime | None = None,
        last_run: datetime | None = None,
        changed: datetime | None = None,
    ) -> list[datetime]:
        """The next `count` firing times after `after` (default: now), within start and end.
        An interval is counted as beat counts it: from the last run (`last_run`), else from
        `start_time`, else from when the beat entry was last changed (`changed`)."""
        now = after or timezone.now()
        runs: list[datetime] = []
        if self.every is not None:
            if last_run is not None:
                moment = last_run + self.every
            elif self.start is not None:
                moment = self.start
            else:
                moment = (changed or now) + self.every
            moment = max(moment, now)  # overdue: beat sends it at once
            while len(runs) < count and (self.end is None or moment <= self.end):
                runs.append(moment.astimezone(self.zone))
                moment += self.every
            return runs
        if self.start and self.start > now:
            now = self.start - timedelta(microseconds=1)
        moment = now.astimezone(self.zone)
        for _ in range(count):
            following = _next_cron(self, moment)
            if following is None or (self.end is not None and following > self.end):
                break
            runs.append(following)
            moment = following
        return runs


def _next_cron(trigger: Trigger, after: datetime) -> datetime | None:
    """The first time strictly after `after` that the crontab matches, as celery computes it."""
    schedule = trigger.crontab()
    base = after.replace(second=0, microsecond=0)
    schedule.nowfun = lambda: base  # celery measures the delta from its clock: pin it to `base`
    try:
        start, delta, _ = schedule.remaining_delta(base, tz=trigger.zone)
    except (ValueError, RuntimeError):  # e.g. 31 February: never
        return None
    following = (start + delta).astimezone(trigger.zone)
    return following if following > after else None


def parse_trigger(data: Any, *, source: str = "schedule", created: datetime | None = None) -> Trigger:
    """Validate a `trigger` mapping; every error names trigger.<key> and the YAML line."""
    if not isinstance(data, dict):
        raise _refuse("trigger", f"{source}: trigger is a mapping with type: cron or type: recurrence.")
    kind = data.get("type")
    if kind not in ("cron", "recurrence"):
        raise _refuse(
            "trigger.type", f"{where(data, 'type', source)}: trigger type must be cron or recurrence, not {kind!r}."
        )
    refuse_unknown_keys(
        CronTriggerSpec if kind == "cron" else RecurrenceTriggerSpec, data, source=source, field="trigger"
    )
    zone_name = data.get("time_zone") or "UTC"
    if not isinstance(zone_name, str):
        raise _refuse("trigger.time_zone", f"{where(data, 'time_zone', source)}: time_zone is a name such as UTC.")
    try:
        zone = zone_for(zone_name)
    except ValueError:
        raise _refuse(
            "trigger.time_zone",
            f"{where(data, 'time_zone', source)}: unknown time zone {zone_name!r}: use an IANA name such as "
            "Europe/Berlin, or a Windows name such as 'Pacific Standard Time'.",
        ) from None
    start = (
        _time(data["start_time"], zone, "trigger.start_time", where(data, "start_time", source))
        if data.get("start_time")
        else None
    )
    end = (
        _time(data["end_time"], zone, "trigger.end_time", where(data, "end_time", source))
        if data.get("end_time")
        else None
    )
    if start and end and end <= start:
        raise _refuse("trigger.end_time", f"{where(data, 'end_time', source)}: end_time must be after start_time.")
    trigger = Trigger(type=kind, zone=zone, start=start, end=end, raw=dict(data))
    if kind == "cron":
        trigger.cron = _cron(data, source)
    else:
        _recurrence(trigger, data, source, (start or created or timezone.now()).astimezone(zone))
    return trigger


def _cron(data: Any, source: str) -> tuple[str, str, str, str, str]:
    at = where(data, "expression", source)
    expression = data.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise _refuse("trigger.expression", f"{at}: a cron trigger needs an expression such as '0 * * * *'.")
    fields = expression.split()
    if len(fields) != 5:
        raise _refuse(
            "trigger.expression",
            f"{at}: {expression!r} is not a cron expression: give five fields "
            "(minute hour day-of-month month day-of-week), e.g. '*/15 * * * *'.",
        )
    for text, (label, high, low) in zip(fields, CRON_FIELDS, strict=True):
        try:
            if label == "day of week":
                crontab(day_of_week=text)
            else:
                crontab_parser(high, low).parse(text)
        except ValueError as exc:
            problem = str(exc) if label == "day of week" or "weekday" not in str(exc) else "not a number or range"
            raise _refuse(
                "trigger.expression", f"{at}: bad cron expression {expression!r}: the {label} field {text!r}: {problem}"
            ) from None
    minute, hour, day_of_month, month, day_of_week = fields
    try:
        crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month, day_of_week=day_of_week)
    except ValueError as exc:  # e.g. 31 February
        raise _refuse("trigger.expression", f"{at}: bad cron expression {expression!r}: {exc}") from None
    return (minute, hour, day_of_month, month, day_of_week)


def _recurrence(trigger: Trigger, data: Any, source: str, anchor: datetime) -> None:
    frequency = data.get("frequency")
    if frequency not in FREQUENCIES:
        raise _refuse(
            "trigger.frequency",
            f"{where(data, 'frequency', source)}: frequency must be one of {', '.join(FREQUENCIES)}, "
            f"not {frequency!r}.",
        )
    if "interval" not in data:
        raise _refuse(
            "trigger.interval",
            f"{where(data, 'frequency', source)}: a recurrence needs an interval (e.g. interval: 1).",
        )
    interval = _whole(data["interval"], "trigger.interval", where(data, "interval", source), 1, MAX_INTERVAL[frequency])
    pattern = data.get("schedule")
    if pattern is not None:
        at = where(data, "schedule", source)
        if frequency in ("minute", "hour"):
            raise _refuse(
                "trigger.schedule",
                f"{at}: schedule (hours, minutes, week_days) goes with frequency day, week or month.",
            )
        if not isinstance(pattern, dict):
            raise _refuse("trigger.schedule", f"{at}: schedule is a mapping of hours, minutes, week_days, month_days.")
        refuse_unknown_keys(RecurrencePatternSpec, pattern, source=source, field="trigger.schedule")
        if interval != 1:
            raise _refuse(
                "trigger.interval",
                f"{where(data, 'interval', source)}: with a schedule of hours and days Studio runs interval 1 "
                "only; write a cron trigger for other patterns.",
            )
        trigger.cron = _pattern(pattern, frequency, source, anchor)
        return
    if frequency in ("minute", "hour", "day", "week"):
        size = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}[frequency]
        trigger.every = timedelta(seconds=size * interval)
        return
    months = ",".join(str(m) for m in range(1, 13) if (m - anchor.month) % interval == 0)
    trigger.cron = (str(anchor.minute), str(anchor.hour), str(anchor.day), "*" if interval == 1 else months, "*")


def _numbers(pattern: Any, key: str, source: str, lo: int, hi: int) -> list[int]:
    values = pattern.get(key)
    values = values if isinstance(values, list) else [values]
    at = where(pattern, key, source)
    return sorted({_whole(v, f"trigger.schedule.{key}", at, lo, hi) for v in values})


def _pattern(pattern: Any, frequency: str, source: str, anchor: datetime) -> tuple[str, str, str, str, str]:
    minutes = _numbers(pattern, "minutes", source, 0, 59) if "minutes" in pattern else [anchor.minute]
    hours = _numbers(pattern, "hours", source, 0, 23) if "hours" in pattern else [anchor.hour]
    day_of_week = day_of_month = "*"
    if "week_days" in pattern:
        if frequency != "week":
            raise _refuse(
                "trigger.schedule.week_days",
                f"{where(pattern, 'week_days', source)}: week_days go with frequency week.",
            )
        days = pattern["week_days"] if isinstance(pattern["week_days"], list) else [pattern["week_days"]]
        numbers = set()
        for day in days:
            if not isinstance(day, str) or day.strip().lower() not in WEEK_DAYS:
                raise _refuse(
                    "trigger.schedule.week_days",
                    f"{where(pattern, 'week_days', source)}: {day!r} is not a day: use monday … sunday.",
                )
            numbers.add(WEEK_DAYS.index(day.strip().lower()))
        day_of_week = ",".join(str(n) for n in sorted(numbers))
    elif frequency == "week":
        day_of_week = str((anchor.weekday() + 1) % 7)
    if "month_days" in pattern:
        if frequency != "month":
            raise _refuse(
                "trigger.schedule.month_days",
                f"{where(pattern, 'month_days', source)}: month_days go with frequency month.",
            )
        day_of_month = ",".join(str(n) for n in _numbers(pattern, "month_days", source, 1, 31))
    elif frequency == "month":
        day_of_month = str(anchor.day)
    return (",".join(map(str, minutes)), ",".join(map(str, hours)), day_of_month, "*", day_of_week)
