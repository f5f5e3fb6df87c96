"""API shapes of datastores and data assets (Azure ML CLI v2 field names). Credentials are
write-only: they are accepted on create/update and never serialised."""

from __future__ import annotations

from rest_framework import serializers

from datastores.models import Datastore, DataVersion
from studio import netcheck
from studio.api.serializers import TagsField

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


class DatastoreWriteSerializer(serializers.Serializer):
    """The body of POST (all) and PATCH (any subset). Unknown keys are ignored."""

    name = serializers.CharField(max_length=255, required=False)
    type = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    tags = TagsField(required=False)
    path = serializers.CharField(required=False, allow_blank=True, max_length=1024)
    account_name = serializers.CharField(required=False, allow_blank=True, max_length=64)
    container_name = serializers.CharField(required=False, allow_blank=True, max_length=63)
    endpoint = serializers.CharField(required=False, allow_blank=True, max_length=255)
    protocol = serializers.CharField(required=False, allow_blank=True, max_length=5)
    bucket = serializers.CharField(required=False, allow_blank=True, max_length=63)
    endpoint_url = serializers.CharField(required=False, allow_blank=True, max_length=255)
    region = serializers.CharField(required=False, allow_blank=True, max_length=40)
    credentials = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, write_only=True)


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
