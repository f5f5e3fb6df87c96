"""One schema per asset: a DRF serializer that the API (validation and the OpenAPI document), the
pages' forms and the YAML path (file:line errors) all go through.

`SpecSerializer` adds what Azure ML CLI v2 files need on top of DRF:
- unknown keys are refused one by one, with the line they were written on (a `LineDict` from
  studio.yamlspec keeps them) and a "did you mean" for near misses;
- Azure keys Studio has no use for (`ignored_keys`) are accepted and reported as notices; they are
  declared as fields, so the OpenAPI document lists every key a file may carry (the CLI checks files
  against it before sending them);
- keys of our own GET output (`tolerated_keys`) are accepted silently, so a client may send back
  what it read;
- errors come out as a Django ValidationError of plain `{field: [message]}` lists, the shape the
  services, forms and the API's error handler already speak.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from studio.tags import clean_tags

IGNORED_HELP = "An Azure ML key Studio accepts and ignores (reported in `notices`)."


def line_of(data: Any, key: Any) -> int | None:
    """The 1-based line `key` was written on, when `data` came from a YAML file."""
    return getattr(data, "lines", {}).get(key)


def where(data: Any, key: Any) -> str:
    line = line_of(data, key)
    return f" (line {line})" if line else ""


def did_you_mean(key: Any, allowed: Iterable[str]) -> str:
    hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
    return f" Did you mean {hint[0]!r}?" if hint else ""


def kind_of(value: Any) -> str:
    """What a value is, in the words of a YAML file ("a mapping", "a list", "true or false")."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


@extend_schema_field(OpenApiTypes.ANY)
class IgnoredField(serializers.Field):
    """An Azure ML key accepted for compatibility and not used."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", IGNORED_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        return data


class WholeNumber(serializers.IntegerField):
    """An integer within bounds, said the same way for every key ("memory_mb must be at least 128,
    not 12."); "" and None mean "not given"."""

    def to_internal_value(self, data: Any) -> int:
        key = self.field_name
        number: int | None
        if isinstance(data, bool):
            number = None
        elif isinstance(data, int):
            number = data
        elif isinstance(data, float) and data.is_integer():
            number = int(data)
        elif isinstance(data, str) and data.strip().lstrip("-").isdigit():
            number = int(data.strip())
        else:
            number = None
        if number is None:
            raise serializers.ValidationError(f"{key} must be a whole number, not {data!r}.")
        if self.min_value is not None and number < self.min_value:
            raise serializers.ValidationError(f"{key} must be at least {self.min_value}, not {number}.")
        if self.max_value is not None and number > self.max_value:
            raise serializers.ValidationError(f"{key} must be at most {self.max_value}, not {number}.")
        return number

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "":
            data = None
        if data is None:
            return True, None
        return super().validate_empty_values(data)


@extend_schema_field(OpenApiTypes.STR)
class Text(serializers.Field):
    """A one-line value as text (numbers are read as text: `version: 2`), trimmed; None is ""."""

    def __init__(self, *, max_length: int | None = None, **kwargs: Any) -> None:
        self.max_length = max_length
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> str:
        key = self.field_name
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            raise serializers.ValidationError(f"{key} must be text, not {kind_of(data)}.")
        text = str(data).strip()
        if self.max_length and len(text) > self.max_length:
            raise serializers.ValidationError(f"{key} is longer than {self.max_length} characters.")
        return text

    def to_representation(self, value: Any) -> Any:
        return value


class Choice(serializers.ChoiceField):
    """One of `choices`, read case-insensitively with '-' and ' ' as '_', plus `aliases`
    (what Azure files write -> our value); `message` names the choices ({input!r} is the value)."""

    def __init__(self, choices: Iterable[str], *, aliases: Mapping[str, str] | None = None, message: str, **kwargs):
        self.aliases = dict(aliases or {})
        kwargs.setdefault("required", False)
        super().__init__(choices=list(choices) + [a for a in self.aliases if a not in choices], **kwargs)
        self.error_messages["invalid_choice"] = message

    def to_internal_value(self, data: Any) -> str:
        text = str(data).strip().lower().replace("-", "_").replace(" ", "_")
        text = self.aliases.get(text, text)
        if text not in self.choices:
            self.fail("invalid_choice", input=data)
        return self.aliases.get(text, text)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "" or data is None:
            return True, None
        return super().validate_empty_values(data)


class SpecSerializer(serializers.Serializer):
    """The base of every asset's schema (see the module docstring)."""

    ignored_keys: ClassVar[frozenset[str]] = frozenset()
    tolerated_keys: ClassVar[frozenset[str]] = frozenset()
    # What the unknown-key message calls the thing ("A compute cluster takes: …").
    noun: ClassVar[str] = "definition"
    # None: each unknown key is an error of its own; a field name: one message there naming them
    # all ("env.yml: unknown key 'imgae' (line 2). Did you mean 'image'? Allowed: …").
    unknown_keys_on: ClassVar[str | None] = None

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for key in sorted(self.ignored_keys):
            fields.setdefault(key, IgnoredField())
        return fields

    @property
    def spec_keys(self) -> set[str]:
        """The keys this schema uses (not the ignored ones)."""
        return {name for name in self.fields.keys() if name not in self.ignored_keys}

    def allowed_keys(self, data: Mapping) -> set[str]:
        """The keys `data` may use; a subclass narrows them (a compute cluster has no docker_host)."""
        return self.spec_keys

    def describe(self, data: Mapping) -> str:
        """What `data` defines, as a noun phrase ("a compute cluster")."""
        return f"a {self.noun}"

    def misplaced_key(self, key: str, data: Mapping) -> str:
        """The message for a key this schema knows but `data` may not use."""
        return f"Not a setting of {self.describe(data)}{where(data, key)}."

    def check_keys(self, data: Mapping, on: str | None = None) -> dict[str, list[str]]:
        """The errors of the keys of `data`; `on` overrides `unknown_keys_on` (one message there)."""
        on = on if on is not None else self.unknown_keys_on
        allowed = self.allowed_keys(data)
        errors: dict[str, list[str]] = {}
        if on is not None:
            unknown = [k for k in data if k not in allowed | self.ignored_keys | self.tolerated_keys | {"$schema"}]
            if unknown:
                source = self.context.get("source", "spec")
                parts = ", ".join(f"{k!r}{where(data, k)}" for k in unknown)
                errors[on] = [
                    f"{source}: unknown key{'s' if len(unknown) > 1 else ''} {parts}."
                    f"{did_you_mean(unknown[0], allowed | self.ignored_keys)} Allowed: {', '.join(sorted(allowed))}."
                ]
            return errors
        for key in data:
            if key in allowed or key in self.ignored_keys or key in self.tolerated_keys or key == "$schema":
                continue
            if key in self.fields:
                errors[str(key)] = [self.misplaced_key(str(key), data)]
            else:
                errors[str(key)] = [
                    f"Unknown key{where(data, key)}.{did_you_mean(key, allowed | self.ignored_keys)} "
                    f"{self.describe(data).capitalize()} takes: {', '.join(sorted(allowed))}."
                ]
        return errors

    def clean_values(self, data: Mapping) -> dict[str, Any]:
        """`data` with the values of its plainly typed keys (text, tags, whole numbers, choices)
        checked and cleaned by their fields, for a parser that reads the other keys itself (a
        `Value`, a nested mapping). Raises a Django ValidationError naming each bad key."""
        out, errors = dict(data), {}
        for key, value in data.items():
            field = self.fields.get(key)
            if field is None or key in self.ignored_keys or isinstance(field, PARSER_READS):
                continue
            try:
                out[key] = field.run_validation(value)
            except serializers.ValidationError as exc:
                errors[str(key)] = plain_errors(exc.detail, f"{key}.")[str(key)]
        if errors:
            raise ValidationError(errors)
        return out

    def notices(self, data: Mapping) -> list[str]:
        return [
            f"{key!r}{where(data, key)} is accepted but ignored by Studio." for key in data if key in self.ignored_keys
        ]

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"spec": ["Expected a mapping of keys to values."]})
        errors: dict[str, Any] = dict(self.check_keys(data))
        values: dict[str, Any] = {}
        try:
            values = super().to_internal_value(
                {k: v for k, v in data.items() if k not in self.ignored_keys and k not in self.tolerated_keys}
            )
        except serializers.ValidationError as exc:
            errors = {**(exc.detail if isinstance(exc.detail, dict) else {"spec": exc.detail}), **errors}
        if errors:
            raise serializers.ValidationError({**errors, **self._cross_errors(data, set(errors))})
        return values

    def _cross_errors(self, data: Mapping, failed: set[str]) -> dict[str, Any]:
        """The rules across keys, checked over the keys that passed, so that one answer names every
        problem (a bad name and min_instances > max_instances together). Only errors on keys not
        already refused are kept."""
        rest = {k: v for k, v in data.items() if k not in failed and k not in self.ignored_keys}
        partial, self.partial = self.partial, True  # the refused keys are missing, not required
        try:
            self.validate(super().to_internal_value(rest))
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                return {k: v for k, v in exc.detail.items() if k not in failed}
        finally:
            self.partial = partial
        return {}

    def clean(self) -> dict[str, Any]:
        """`is_valid()`, raising a Django ValidationError with plain message lists if not."""
        if not self.is_valid():
            raise ValidationError(plain_errors(self.errors))
        return dict(self.validated_data)


def plain_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's error detail (nested for nested serializers) as `{field: [message]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = "spec" if key == "non_field_errors" and not prefix else f"{prefix}{key}"
            if isinstance(value, Mapping):
                for sub, messages in plain_errors(value, f"{name}.").items():
                    out.setdefault(sub, []).extend(messages)
            else:
                items = value if isinstance(value, list) else [value]
                out.setdefault(name, []).extend(str(m) for m in items)
    else:
        out.setdefault(prefix.rstrip(".") or "spec", []).extend(
            str(m) for m in (detail if isinstance(detail, list) else [detail])
        )
    return out


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class Tags(serializers.Field):
    """name=value labels, through the one tag rule (studio.tags.clean_tags)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, {}
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        try:
            return clean_tags(data, field="tags")
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["tags"]) from None

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.ANY)
class Value(serializers.Field):
    """A key whose value the asset's parser reads and checks itself (a search space, a binding, a
    trigger): declared here so the schema, the OpenAPI document and the CLI know the key."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


# Fields whose values the asset's own parser reads (SpecSerializer.clean_values leaves them).
PARSER_READS = (Value, IgnoredField, serializers.BaseSerializer, serializers.DictField)


def refuse_unknown_keys(
    schema: SpecSerializer | type[SpecSerializer], data: Mapping, *, source: str, field: str = "spec"
) -> list[str]:
    """The key check of an asset's schema, for the parsers that keep their own rules for values
    (sweeps, pipelines, schedules, endpoints): a ValidationError on `field` naming each key the
    schema does not declare, with its line and a "did you mean"; else the notices of the Azure keys
    it accepts and ignores. `schema` is a class, or an instance made with `context={"source": ...}`
    when it needs arguments (`partial`)."""
    serializer = schema(context={"source": source}) if isinstance(schema, type) else schema
    errors = serializer.check_keys(data, on=field)
    if errors:
        raise ValidationError(errors)
    return serializer.notices(data)
