from django.contrib import admin

from compute.models import ComputeTarget, DispatchProbe, Node


@admin.register(ComputeTarget)
class ComputeTargetAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "type", "backend", "state", "size", "min_instances", "max_instances"]
    list_filter = ["type", "state", "backend"]
    search_fields = ["name", "workspace__name"]
    exclude = ["tls_encrypted"]
    readonly_fields = ["engine_info", "desired_nodes", "scaler_status", "scaler_called_at", "created_at"]


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["worker_name", "queue", "state", "running", "capacity", "last_heartbeat"]
    list_filter = ["state"]
    search_fields = ["worker_name", "hostname", "queue"]


@admin.register(DispatchProbe)
class DispatchProbeAdmin(admin.ModelAdmin):
    list_display = ["pk", "target", "sent_at", "latency_ms", "worker_name"]
