"""The one schema of a data asset version (`DataSpec`): the API's JSON body (and its OpenAPI
document), an Azure ML CLI v2 data YAML (as a body, a multipart `spec` part or pasted on the page)
and the page's form all pass through it, in datastores.services.do_create_data."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import serializers

from datastores.models import DataVersion
from studio import versioning
from studio.schema import Choice, SpecSerializer, Tags, Text

# Azure keys of a data YAML with no meaning here: accepted, reported as ignored.
AZURE_IGNORED = frozenset({"properties", "datastore", "stage", "auto_delete_setting"})


class DataSpec(SpecSerializer):
    """A data asset version: a name, a `type` and a `path` (a datastore URI or a URL; or files
    uploaded beside it), optionally a version, description and tags."""

    ignored_keys = AZURE_IGNORED
    unknown_keys_on = "spec"
    noun = "data asset"

    name = Text(max_length=255, help_text="Letters, digits, '.', '_' or '-'")
    version = Text(max_length=30, help_text="Auto-numbered unless given")
    type = Choice(
        DataVersion.Type.values,
        message=f"Choose one of: {', '.join(DataVersion.Type.values)}.",
        help_text="uri_folder (default), uri_file or mltable",
    )
    path = Text(max_length=2048, help_text="azureml://datastores/<name>/paths/<path>, or a URL")
    description = Text(max_length=4000)
    tags = Tags()

    def validate_version(self, value: str) -> str:
        if not value:
            return value
        try:
            value = versioning.validate_version(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["version"]) from None
        if value == "latest":
            raise serializers.ValidationError("'latest' is a label, not a version.")
        return value


def clean(body: Any, *, source: str = "spec", partial: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The checked values of a data definition and the notices of keys accepted but ignored."""
    schema = DataSpec(data=body, context={"source": source}, partial=partial)
    values = schema.clean()
    return values, schema.notices(body) if isinstance(body, dict) else []
