"""The schema of a schedule (Azure ML's schedule YAML) and of its trigger: the keys each mapping
may hold, which the API's OpenAPI document lists and the CLI checks files against.
schedules.spec and schedules.triggers check a mapping's keys here, then the rules of the values
(a cron expression, a time zone, the job to create) themselves."""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import PolymorphicProxySerializer

from studio.schema import SpecSerializer, Tags, Text, Value

WHEN_HELP = "ISO 8601, in time_zone"


class TriggerSpec(SpecSerializer):
    """What both kinds of trigger take: their type, the time zone and the window they fire in."""

    type = Text(help_text="cron or recurrence")
    time_zone = Text(help_text="An IANA or Windows name; UTC unless given")
    start_time = Text(help_text=WHEN_HELP)
    end_time = Text(help_text=WHEN_HELP)


class CronTriggerSpec(TriggerSpec):
    """`type: cron`: a five-field cron expression."""

    noun = "cron trigger"

    expression = Text(help_text="minute hour day-of-month month day-of-week, e.g. 0 6 * * 1-5")


class RecurrencePatternSpec(SpecSerializer):
    """A recurrence's `schedule`: the hours and days it fires at."""

    noun = "recurrence schedule"

    hours = Value(help_text="A whole number or a list of them, 0-23")
    minutes = Value(help_text="A whole number or a list of them, 0-59")
    week_days = Value(help_text="monday … sunday (frequency week)")
    month_days = Value(help_text="1-31 (frequency month)")


class RecurrenceTriggerSpec(TriggerSpec):
    """`type: recurrence`: every `interval` `frequency`s, optionally at a `schedule`."""

    noun = "recurrence trigger"

    frequency = Text(help_text="minute, hour, day, week or month")
    interval = Value(help_text="A whole number")
    schedule = RecurrencePatternSpec(required=False)


class JobScheduleSpec(SpecSerializer):
    """A schedule: a trigger and the job each firing creates (the body of POST; PATCH changes any of
    the keys but `name`)."""

    ignored_keys = frozenset({"properties", "is_enabled", "provisioning_state", "id", "creation_context"})
    noun = "schedule"

    name = Text(max_length=100)
    display_name = Text(max_length=255)
    description = Text()
    tags = Tags()
    trigger = PolymorphicProxySerializer(
        component_name="ScheduleTrigger",
        serializers=[CronTriggerSpec, RecurrenceTriggerSpec],
        resource_type_field_name=None,
        required=False,
    )
    create_job = Value(help_text="An inline job (command, sweep or pipeline), or azureml:<job name> to copy")

    def allowed_keys(self, data: Mapping) -> set[str]:
        return self.spec_keys - {"name"} if self.partial else self.spec_keys
