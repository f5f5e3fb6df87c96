"""API shapes of datastores and data assets (Azure ML CLI v2 field names), as the API answers.
What it is sent is datastores.spec's (DatastoreSpec, DataSpec): credentials are accepted there and
never serialised here."""

from __future__ import annotations

from rest_framework import serializers

from datastores.models import Datastore, DataVersion
from studio import netcheck

CONNECTION = ("path", "account_name", "container_name", "endpoint", "protocol", "bucket", "endpoint_url", "region")


class DatastoreSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="effective_type", read_only=True)
    location = serializers.CharField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Datastore
        fields = [
            "name",
            "type",
            "description",
            "tags",
            "is_default",
            "builtin",
            *CONNECTION,
            "location",
            "credentials_type",
            "credentials_updated_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for field in ("endpoint", "endpoint_url"):
            data[field] = netcheck.without_secrets(data[field])
        return data


class EntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    path = serializers.CharField()
    type = serializers.SerializerMethodField()
    size = serializers.IntegerField(allow_null=True)
    modified = serializers.DateTimeField(allow_null=True)

    def get_type(self, entry) -> str:
        return "folder" if entry.is_dir else "file"


class DataVersionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="asset.name", read_only=True)
    datastore = serializers.CharField(source="datastore.name", read_only=True, default=None)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DataVersion
        fields = [
            "name",
            "version",
            "type",
            "path",
            "datastore",
            "datastore_path",
            "description",
            "tags",
            "archived",
            "size_bytes",
            "file_count",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class DataVersionDetailSerializer(DataVersionSerializer):
    used_by = serializers.SerializerMethodField()

    class Meta(DataVersionSerializer.Meta):
        fields = [*DataVersionSerializer.Meta.fields, "used_by"]
        read_only_fields = fields

    def get_used_by(self, version) -> list[dict]:
        return [
            {"job": u.job_name, "direction": u.direction, "name": u.port, "at": u.created_at.isoformat()}
            for u in version.usages.all()[:200]
        ]
