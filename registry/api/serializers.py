"""REST shapes of models: Azure ML model YAML keys (name, version, type, path, description, tags,
properties) plus read-only fields; MLflow's stage and aliases; lineage."""

from __future__ import annotations

from rest_framework import serializers

from datastores.paths import to_uri
from registry.models import Model, ModelVersion


class ModelVersionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="model.name", read_only=True)
    path = serializers.SerializerMethodField(help_text="Where the files are: a workspaceartifactstore URI")
    job = serializers.CharField(source="job_name", read_only=True)
    aliases = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "name",
            "version",
            "type",
            "path",
            "source",
            "description",
            "tags",
            "properties",
            "stage",
            "aliases",
            "archived",
            "job",
            "size_bytes",
            "file_count",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_path(self, version) -> str:
        return to_uri(version.datastore.name, version.storage_path, folder=True)

    def get_aliases(self, version) -> list[str]:
        return sorted(a.alias for a in version.aliases.all())


class ModelVersionDetailSerializer(ModelVersionSerializer):
    """One version: also the parsed MLmodel file (flavors, signature, input example) and where
    it is used."""

    flavors = serializers.SerializerMethodField()
    signature = serializers.SerializerMethodField()
    mlmodel = serializers.JSONField(read_only=True)
    used_by = serializers.SerializerMethodField()

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "flavors", "signature", "mlmodel", "used_by"]
        read_only_fields = fields

    def get_flavors(self, version) -> list[str]:
        return sorted((version.mlmodel or {}).get("flavors") or {})

    def get_signature(self, version) -> dict | None:
        return (version.mlmodel or {}).get("signature")

    def get_used_by(self, version) -> list[dict]:
        return [
            {"job": u.job_name, "direction": u.direction, "name": u.port, "at": u.created_at.isoformat()}
            for u in version.usages.all()[:200]
        ]


class ModelSerializer(serializers.ModelSerializer):
    """A model and its aliases (alias -> version)."""

    aliases = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Model
        fields = ["name", "description", "tags", "aliases", "created_by", "created_at", "updated_at"]
        read_only_fields = fields

    def get_aliases(self, model) -> dict[str, str]:
        return {a.alias: a.version.version for a in model.aliases.select_related("version")}


class ModelWriteSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    tags = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)


class AliasSerializer(serializers.Serializer):
    alias = serializers.CharField(max_length=255)


class StageSerializer(serializers.Serializer):
    stage = serializers.CharField(max_length=20)
    archive_existing_versions = serializers.BooleanField(required=False, default=False)
