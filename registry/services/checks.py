"""Checking what callers send before anything is stored: names, types, versions, descriptions,
tags and properties, aliases, stages, and the Azure ML model YAML (with the line of each error)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from registry import spec
from registry.models import ModelVersion, alias_validator, model_name_validator
from studio import versioning
from studio.tags import clean_tags
from studio.yamlspec import load_mapping

RESERVED_NAMES = {"new"}


def no_nul(value: Any, field: str) -> None:
    """NUL characters are refused everywhere (PostgreSQL cannot store them in text)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError({field: ["The value contains a NUL character."]})
    if isinstance(value, dict):
        for key, item in value.items():
            no_nul(str(key), field)
            no_nul(item if isinstance(item, str) else str(item), field)


def clean_mapping(value: Any, field: str) -> dict[str, str]:
    """Tags and properties: a mapping of trimmed names to trimmed string values."""
    no_nul(value, field)
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError({field: [f"{field.capitalize()} are a mapping of names to values."]})
    if field == "tags":
        cleaned = clean_tags(value)  # the one tag rule (studio.tags)
    else:  # properties: longer values than tags, checked below
        cleaned = {str(k).strip(): "" if v is None else str(v).strip() for k, v in value.items() if str(k).strip()}
    if len(cleaned) > 200 or any(len(k) > 250 or len(v) > 5000 for k, v in cleaned.items()):
        raise ValidationError({field: ["At most 200 entries, names up to 250 and values up to 5000 characters."]})
    return cleaned


def clean_description(value: str | None) -> str:
    value = (value or "").strip()
    no_nul(value, "description")
    if len(value) > 5000:
        raise ValidationError({"description": ["At most 5000 characters."]})
    return value


def check_name(name: str) -> str:
    """A valid model name (as data asset names: letters, digits, '.', '_', '-'), or a ValidationError."""
    name = (name or "").strip()
    no_nul(name, "name")
    try:
        model_name_validator(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    if name.lower() in RESERVED_NAMES:
        raise ValidationError({"name": [f"{name!r} is reserved; choose another name."]})
    return name


def check_type(model_type: str | None) -> str | None:
    if model_type in (None, ""):
        return None
    if model_type not in ModelVersion.Type.values:
        raise ValidationError({"type": [f"Choose one of: {', '.join(ModelVersion.Type.values)}."]})
    return model_type


def check_version(version: Any) -> str | None:
    """None (auto-number) or a valid explicit version label."""
    if version in (None, ""):
        return None
    no_nul(str(version), "version")
    version = versioning.validate_version(str(version))
    if version == "latest":
        raise ValidationError({"version": ["'latest' is a label, not a version."]})
    return version


def check_alias(alias: str) -> str:
    """MLflow's alias rules: letters, digits, '_' and '-'; `latest` and `v<number>` are reserved."""
    alias = (alias or "").strip()
    no_nul(alias, "alias")
    try:
        alias_validator(alias)
    except ValidationError as exc:
        raise ValidationError({"alias": exc.messages}) from None
    if alias.lower() == "latest" or (alias[:1] in "vV" and alias[1:].isdigit()):
        raise ValidationError({"alias": [f"{alias!r} is reserved (latest and v<number> name versions already)."]})
    return alias


def check_stage(stage: str) -> str:
    """MLflow's stages, matched case-insensitively as MLflow does."""
    for value in ModelVersion.Stage.values:
        if str(stage or "").strip().lower() == value.lower():
            return value
    raise ValidationError({"stage": [f"Choose one of: {', '.join(ModelVersion.Stage.values)}."]})


def parse_model_yaml(text: str) -> dict[str, Any]:
    """An Azure ML CLI v2 model YAML as the same dict the REST API takes (registry.spec.ModelSpec
    checks it); errors name the line."""
    return spec.clean(load_mapping(text, source="model YAML", field="spec"), source="model YAML")
