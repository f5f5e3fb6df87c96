"""The one schema of a model version (`ModelSpec`): the API's JSON body (and its OpenAPI
document), an Azure ML CLI v2 model YAML (as a body or a multipart `spec` part) and the fields of
a multipart upload all pass through it; the services check names, versions and mappings."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import ModelVersion
from studio.schema import Choice, SpecSerializer, Tags, Text

# Accepted for compatibility with Azure ML files, not used (Azure's free-text stage is not MLflow's).
AZURE_IGNORED = frozenset({"stage", "flavors", "datastore", "job_name", "intellectual_property"})


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class PropertiesField(serializers.Field):
    """name: value properties; a multipart field may carry them as JSON or `a=b, c=d` (the
    service reads those)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, (dict, str)) and data is not None:
            raise serializers.ValidationError("Properties are a mapping of names to values.")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ModelSpec(SpecSerializer):
    """A model version: a name, a `path` (runs:/<job>/<folder>, azureml://jobs/…, a datastore URI;
    or files uploaded beside it), optionally a version, type, description, tags and properties."""

    ignored_keys = AZURE_IGNORED
    unknown_keys_on = "spec"
    noun = "model"

    name = Text(max_length=255, help_text="Letters, digits, '.', '_' or '-'")
    version = Text(max_length=30, help_text="Auto-numbered unless given")
    type = Choice(
        ModelVersion.Type.values,
        message=f"Choose one of: {', '.join(ModelVersion.Type.values)}.",
        help_text="custom_model, mlflow_model or triton_model (read from the files when not given)",
    )
    path = Text(max_length=2048, help_text="runs:/<job>/<folder>, azureml://jobs/<job>/outputs/…, or a datastore URI")
    description = Text(max_length=5000)
    tags = Tags()
    properties = PropertiesField(required=False, allow_null=True)


def clean(body: Any, *, source: str = "spec", partial: bool = False) -> dict[str, Any]:
    """The checked keys of a model definition (only those given)."""
    return ModelSpec(data=body, context={"source": source}, partial=partial).clean()
