"""What the components and pipeline-steps endpoints answer (read-only shapes, for the schema)."""

from __future__ import annotations

from rest_framework import serializers

from pipelines.models import ComponentVersion, PipelineStep


class ComponentVersionSerializer(serializers.ModelSerializer):
    """A component version as its Azure ML YAML keys, plus read-only fields."""

    name = serializers.CharField(source="component.name", read_only=True)
    type = serializers.SerializerMethodField()
    command = serializers.SerializerMethodField()
    environment = serializers.SerializerMethodField()
    code = serializers.SerializerMethodField()
    inputs = serializers.SerializerMethodField()
    outputs = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ComponentVersion
        fields = [
            "name",
            "version",
            "type",
            "display_name",
            "description",
            "tags",
            "command",
            "environment",
            "code",
            "inputs",
            "outputs",
            "is_deterministic",
            "interface_hash",
            "archived",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_type(self, obj) -> str:
        return "command"

    def get_command(self, obj) -> str:
        return obj.spec.get("command", "")

    def get_environment(self, obj) -> str:
        return f"azureml:{obj.spec.get('environment', '')}"

    def get_code(self, obj) -> str | None:
        return obj.code.hash if obj.code_id else None

    def get_inputs(self, obj) -> dict:
        return obj.spec.get("inputs") or {}

    def get_outputs(self, obj) -> dict:
        return obj.spec.get("outputs") or {}


class PipelineStepSerializer(serializers.ModelSerializer):
    job = serializers.SlugRelatedField(slug_field="name", read_only=True)
    job_status = serializers.CharField(source="job.status", read_only=True, default=None)
    reused_from = serializers.SlugRelatedField(slug_field="name", read_only=True)
    component = serializers.SerializerMethodField()
    upstream = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = PipelineStep
        fields = [
            "name",
            "state",
            "component",
            "job",
            "job_status",
            "reused_from",
            "explanation",
            "reason",
            "outputs",
            "upstream",
            "started_at",
            "ended_at",
            "duration_seconds",
        ]
        read_only_fields = fields

    def get_component(self, obj) -> str:
        return (obj.identity or {}).get("component") or (
            obj.component_version.reference if obj.component_version_id else ""
        )

    def get_upstream(self, obj) -> list[str]:
        for step in obj.pipeline.spec.get("steps", []):
            if step["name"] == obj.name:
                return list(step.get("upstream") or [])
        return []

    def get_duration_seconds(self, obj) -> float | None:
        duration = obj.duration
        return round(duration.total_seconds(), 3) if duration is not None else None
