"""The one schema of a datastore (`DatastoreSpec`) and of a data asset version (`DataSpec`).

The API's JSON body (and its OpenAPI document), an Azure ML CLI v2 YAML (as a body, a multipart
`spec` part or pasted on the page) and the pages' forms all pass through them: data in
datastores.services.do_create_data, datastores in `clean_datastore` before the services act. The
rules that need storage or the database (the name, which connection keys a type takes, the
credentials a type takes, listing the storage) stay in datastores.services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datastores.models import Datastore, DataVersion
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


# Azure keys of a datastore YAML with no meaning here (Azure Files / Data Lake names, staging).
DATASTORE_IGNORED = frozenset(
    {"properties", "file_share_name", "filesystem", "store_name", "stage", "auto_delete_setting"}
)
CREDENTIAL_KEYS = ("account_key", "sas_token", "access_key_id", "secret_access_key")


@extend_schema_field(
    {
        "type": "object",
        "writeOnly": True,
        "properties": {key: {"type": "string", "writeOnly": True} for key in CREDENTIAL_KEYS},
        "description": "azure_blob: account_key or sas_token; s3: access_key_id and secret_access_key. "
        "Stored encrypted, never returned.",
    }
)
class Credentials(serializers.DictField):
    """The secrets of a connection, write-only; which keys a type takes is the service's rule
    (datastores.services.clean_credentials), so its messages stay the same in every body."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(child=serializers.CharField(allow_blank=True, trim_whitespace=False), **kwargs)


class DatastoreSpec(SpecSerializer):
    """A datastore: the body of POST (name and type required) and PATCH (the keys given change),
    as JSON or an Azure ML CLI v2 datastore YAML. Connection keys apply per type (local: path;
    azure_blob: account_name, container_name, endpoint, protocol; s3: bucket, endpoint_url,
    region); credentials are accepted and never shown again."""

    ignored_keys = DATASTORE_IGNORED
    unknown_keys_on = "spec"
    noun = "datastore"

    name = Text(max_length=255, help_text="Letters, digits and underscores")
    type = Choice(
        Datastore.Type.values,
        message=f"Choose one of: {', '.join(Datastore.Type.values)}.",
        help_text="local, azure_blob or s3",
    )
    description = Text(max_length=2000)
    tags = Tags()
    path = Text(max_length=1024, help_text="local: an absolute folder on the Studio server")
    account_name = Text(max_length=64, help_text="azure_blob")
    container_name = Text(max_length=63, help_text="azure_blob")
    endpoint = Text(max_length=255, help_text="azure_blob: core.windows.net or a service URL")
    protocol = Text(max_length=5, help_text="azure_blob: https (or http for an emulator)")
    bucket = Text(max_length=63, help_text="s3")
    endpoint_url = Text(max_length=255, help_text="s3: empty for AWS, else a URL")
    region = Text(max_length=40, help_text="s3")
    credentials = Credentials()


@sensitive_variables("body", "values")
def clean_datastore(body: Any, *, source: str = "spec", partial: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The checked values of a datastore definition (only the keys given) and the notices of keys
    accepted but ignored. A new one needs a name and a type."""
    schema = DatastoreSpec(data=body, context={"source": source}, partial=True)
    values = schema.clean()
    if not partial:
        missing = {key: ["This field is required."] for key in ("name", "type") if not values.get(key)}
        if missing:
            raise ValidationError(missing)
    return values, schema.notices(body) if isinstance(body, dict) else []
