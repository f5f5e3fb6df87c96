"""Read-side serializers (field names of the Azure ML CLI v2 schema). Input is checked by
environments.spec, shared with the pages and the YAML route."""

from __future__ import annotations

from rest_framework import serializers

from environments.models import EnvironmentBuild, EnvironmentVersion


class BuildSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    version = serializers.CharField(source="version.reference", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    source = serializers.PrimaryKeyRelatedField(read_only=True)
    duration = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = EnvironmentBuild
        fields = [
            "id",
            "version",
            "backend",
            "status",
            "cache_hit",
            "forced",
            "reason",
            "source",
            "spec_hash",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "duration",
            "python",
            "image",
            "resolved_packages",
            "base_image_id",
            "error",
        ]
        read_only_fields = fields


class VersionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="environment.name", read_only=True)
    curated = serializers.BooleanField(source="environment.curated", read_only=True)
    reference = serializers.SerializerMethodField()
    build = serializers.SerializerMethodField()
    user_managed_dependencies = serializers.BooleanField(source="user_managed", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    conda_file = serializers.CharField(read_only=True, allow_blank=True)

    class Meta:
        model = EnvironmentVersion
        fields = [
            "name",
            "version",
            "reference",
            "curated",
            "kind",
            "description",
            "tags",
            "image",
            "conda_file",
            "pip_requirements",
            "build",
            "environment_variables",
            "os_type",
            "user_managed_dependencies",
            "interpreter_path",
            "spec_hash",
            "archived",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_reference(self, obj) -> str:
        return f"azureml:{obj.reference}"

    def get_build(self, obj) -> dict | None:
        if not obj.context_files:
            return None
        return {
            "path": ".",
            "dockerfile_path": obj.dockerfile_path,
            "files": [{"path": p, "size": s, "sha256": h} for p, s, h in obj.context_files],
        }
