"""Tags: the one rule for the name=value labels every asset carries (workspaces, environments,
compute, jobs, datastores, data).

A mapping of trimmed names to text values; `None` and "" mean no tags. Forms send text
("team=vision, stage=dev", one per line or comma-separated), which is parsed here too. Anything
else is a ValidationError on `tags` (a 400 in the API, a form error in pages).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

MAX_NAME = 128
MAX_VALUE = 256


def parse_tag_text(text: str, *, field: str = "tags") -> dict[str, str]:
    """`key=value` pairs, one per line or comma-separated; a bare word is a tag with no value."""
    tags: dict[str, str] = {}
    for chunk in text.replace("\n", ",").split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        key, _, value = chunk.partition("=")
        if not key.strip():
            raise ValidationError({field: [f"'{chunk}' has no name before '='."]})
        tags[key.strip()] = value.strip()
    return clean_tags(tags, field=field)


def clean_tags(value: Any, *, field: str = "tags") -> dict[str, str]:
    """Tags from a body, a YAML file or a form's text, checked and trimmed."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValidationError({field: ["Tags written as JSON must be an object of names to values."]}) from None
        else:
            return parse_tag_text(text, field=field)
    if not isinstance(value, Mapping):
        raise ValidationError({field: ["Tags must be a mapping of names to values."]})
    tags: dict[str, str] = {}
    for key, item in value.items():
        name = str(key).strip()
        if not name:
            continue
        if isinstance(item, (Mapping, list, tuple)):
            raise ValidationError({field: [f"The tag {name!r} must have a single value, not a list or mapping."]})
        text = "" if item is None else str(item).strip()
        if len(name) > MAX_NAME or len(text) > MAX_VALUE:
            raise ValidationError(
                {field: [f"The tag '{name[:30]}' is too long (names up to {MAX_NAME}, values up to {MAX_VALUE})."]}
            )
        tags[name] = text
    return tags
