"""The one reader of API request bodies: JSON, Azure ML CLI v2 YAML, or multipart with a `spec`
part (YAML or JSON text) beside uploaded files.

Every parsed body passes one check before a view sees it, so bad input is a 400 with a message,
never a 500 deep inside a service: text is UTF-8, no NUL characters, nesting at most `MAX_DEPTH`
levels, numbers finite and not absurd (studio.yamlspec.check_tree). The parsers are the API's defaults
(settings.REST_FRAMEWORK); views read a definition with `read_spec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request

from studio.yamlspec import MAX_DEPTH, check_tree, load_mapping


class JSONBodyParser(JSONParser):
    """JSON (strict: no NaN or Infinity), checked."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from None
        check_tree(data)
        return data


class YAMLBodyParser(BaseParser):
    """`Content-Type: application/yaml`: an Azure ML CLI v2 YAML file as the request body."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        return load_mapping(stream.read() if stream is not None else b"", source="YAML body")


class TextYAMLBodyParser(YAMLBodyParser):
    media_type = "text/yaml"


class XYAMLBodyParser(YAMLBodyParser):
    media_type = "application/x-yaml"


class MultiPartBodyParser(MultiPartParser):
    """Multipart forms; their text fields are checked like any body (files are the views' to read)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        for key, values in parsed.data.lists():
            check_tree(values, source=f"field {key!r}", field=key)
        return parsed


class FormBodyParser(FormParser):
    """URL-encoded forms, checked like any body."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        for key, values in parsed.lists():
            check_tree(values, source=f"field {key!r}", field=key)
        return parsed


def is_form(request: Request) -> bool:
    content_type = request.content_type or ""
    return content_type.startswith(("multipart/", "application/x-www-form-urlencoded"))


def read_spec(request: Request, *, field: str = "spec", required: bool = True) -> tuple[Mapping, str]:
    """The definition a POST/PATCH carries, and how it came ("yaml" or "api"): a JSON or YAML body,
    or a multipart/form `spec` part (a file or a field) holding YAML or JSON text."""
    if is_form(request):
        form: Any = request.data
        raw = request.FILES.get(field) or form.get(field)
        if raw is None:
            if not required:
                return {}, "api"
            raise ValidationError({field: [f"Send the definition as JSON, as YAML, or as a multipart {field!r} part."]})
        text = raw.read() if hasattr(raw, "read") else str(raw)
        return load_mapping(text, source=getattr(raw, "name", None) or field, field=field), "yaml"
    data = request.data
    if not isinstance(data, Mapping):
        raise ValidationError({field: ["Expected an object of keys to values."]})
    return data, "yaml" if (request.content_type or "").endswith("yaml") else "api"


def truthy(value: Any) -> bool:
    """A flag in a query string or form field: 1, true, yes or on (any case)."""
    return str(value or "").lower() in ("1", "true", "yes", "on")
