"""How jobs, code snapshots and experiments look in JSON: the field names of Azure ML CLI v2
YAML (snake_case) plus read-only state."""

from __future__ import annotations

from rest_framework import serializers

from jobs.models import CodeSnapshot, Experiment, Job


def inputs_as_yaml(job: Job) -> dict:
    out = {}
    for key, item in job.inputs.items():
        if "value" in item:
            out[key] = item["value"]
        else:
            out[key] = {k: v for k, v in item.items() if k in ("type", "path", "mode")}
    return out


class JobSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()
    experiment_name = serializers.CharField(source="experiment.name")
    code = serializers.SerializerMethodField()
    environment = serializers.CharField(source="environment_label")
    compute = serializers.CharField(source="compute_name")
    inputs = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    canceled_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "name",
            "type",
            "parent",
            "display_name",
            "description",
            "tags",
            "experiment_name",
            "status",
            "code",
            "command",
            "environment",
            "environment_ref",
            "compute",
            "backend",
            "inputs",
            "outputs",
            "environment_variables",
            "limits",
            "resources",
            "created_by",
            "created_at",
            "queued_at",
            "started_at",
            "running_at",
            "finalizing_at",
            "ended_at",
            "archived_at",
            "duration_seconds",
            "node",
            "wait_reason",
            "exit_code",
            "failure_kind",
            "failure_reason",
            "error_excerpt",
            "cancel_requested_at",
            "canceled_by",
            "build_info",
            "url",
        ]
        read_only_fields = fields

    def get_type(self, job) -> str:
        return job.type

    def get_parent(self, job) -> str | None:
        return job.parent.name if job.parent_id else None

    def get_code(self, job) -> str | None:
        return job.code.hash if job.code_id else None

    def get_inputs(self, job) -> dict:
        return inputs_as_yaml(job)

    def get_limits(self, job) -> dict:
        limits = {}
        if job.timeout_seconds:
            limits["timeout"] = job.timeout_seconds
        if job.max_retries:
            limits["max_retries"] = job.max_retries
        return limits

    def get_duration_seconds(self, job) -> float | None:
        duration = job.duration
        return round(duration.total_seconds(), 3) if duration is not None else None

    def get_url(self, job) -> str:
        return job.get_absolute_url()


class JobListSerializer(JobSerializer):
    class Meta(JobSerializer.Meta):
        fields = [
            "name",
            "type",
            "parent",
            "display_name",
            "experiment_name",
            "status",
            "environment",
            "compute",
            "created_by",
            "created_at",
            "started_at",
            "ended_at",
            "archived_at",
            "duration_seconds",
            "exit_code",
            "failure_reason",
            "wait_reason",
            "url",
        ]
        read_only_fields = fields


class CodeSnapshotSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="hash")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CodeSnapshot
        fields = ["id", "size_bytes", "file_count", "created_by", "created_at"]
        read_only_fields = fields


class ExperimentSerializer(serializers.ModelSerializer):
    job_count = serializers.IntegerField(read_only=True)
    last_job_at = serializers.DateTimeField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Experiment
        fields = ["name", "job_count", "last_job_at", "created_by", "created_at"]
        read_only_fields = fields


class LogSliceSerializer(serializers.Serializer):
    file = serializers.CharField()
    text = serializers.CharField()
    offset = serializers.IntegerField()
    next_offset = serializers.IntegerField()
    size = serializers.IntegerField()
    status = serializers.CharField()
    final = serializers.BooleanField(help_text="The job is over and this is the end of the log")
