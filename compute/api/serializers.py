"""How compute targets and nodes look in the REST API. Input is compute.spec.ComputeSpec (the one
schema the pages, the API and YAML files share); these serializers shape the output."""

from __future__ import annotations

from rest_framework import serializers

from compute.models import ComputeTarget, ComputeType, Node
from compute.overview import attach

TYPE_FIELDS = {
    ComputeType.CLUSTER: {"min_instances", "max_instances", "idle_time_before_scale_down", "tier", "desired_nodes"},
    ComputeType.INSTANCE: {"assigned_to", "desired_nodes"},
    ComputeType.ATTACHED: {"docker_host", "has_tls", "engine_info"},
}
ALL_TYPE_FIELDS = set().union(*TYPE_FIELDS.values())


class ComputeSerializer(serializers.ModelSerializer):
    type_label = serializers.CharField(source="get_type_display", read_only=True)
    cpu_cores = serializers.FloatField()
    size_label = serializers.CharField(read_only=True)
    assigned_to = serializers.SlugRelatedField(slug_field="username", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    queue = serializers.CharField(source="queue_name", read_only=True)
    address = serializers.CharField(read_only=True, help_text="What `studio_worker --compute` takes")
    has_tls = serializers.BooleanField(read_only=True)
    nodes = serializers.SerializerMethodField(help_text="Responsive nodes: total, busy, idle, paused, draining")
    demand = serializers.SerializerMethodField(help_text="Unfinished jobs: queued, running; nodes wanted")
    status = serializers.SerializerMethodField(
        help_text='What is true now: "state" unless its nodes say otherwise (Starting, Idle), and "nodes_up"'
    )

    class Meta:
        model = ComputeTarget
        fields = [
            "name",
            "type",
            "type_label",
            "backend",
            "state",
            "state_message",
            "description",
            "tags",
            "size",
            "size_label",
            "cpu_cores",
            "memory_mb",
            "gpus",
            "min_instances",
            "max_instances",
            "idle_time_before_scale_down",
            "tier",
            "desired_nodes",
            "assigned_to",
            "docker_host",
            "has_tls",
            "engine_info",
            "queue",
            "address",
            "nodes",
            "demand",
            "status",
            "scaler_status",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_nodes(self, obj: ComputeTarget) -> dict[str, int]:
        o = _overview(obj)
        return {"total": o.nodes, "busy": o.busy, "idle": o.idle, "paused": o.paused, "draining": o.draining}

    def get_demand(self, obj: ComputeTarget) -> dict[str, int]:
        o = _overview(obj)
        return {"queued": o.queued, "running": o.running, "wanted": o.plan.wanted, "desired_nodes": o.plan.desired}

    def get_status(self, obj: ComputeTarget) -> dict[str, str]:
        _overview(obj)
        return {"state": obj.shown_state, "nodes_up": obj.nodes_up}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        keep = TYPE_FIELDS.get(instance.type, set())
        return {k: v for k, v in data.items() if k not in ALL_TYPE_FIELDS or k in keep}


def _overview(target: ComputeTarget):
    if not hasattr(target, "overview"):
        attach([target])
    return target.overview


class NodeSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="shown_state", read_only=True)

    class Meta:
        model = Node
        fields = [
            "worker_name",
            "hostname",
            "pid",
            "queue",
            "state",
            "state_message",
            "capacity",
            "running",
            "cpu_count",
            "memory_mb",
            "gpus",
            "backends",
            "pythons",
            "drain_requested",
            "started_at",
            "last_heartbeat",
            "stopped_at",
        ]
        read_only_fields = fields
