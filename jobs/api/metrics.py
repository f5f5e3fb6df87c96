"""GET /api/v1/workspaces/{ws}/jobs/{name}/metrics/: what the job's script logged through MLflow."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from jobs import tracking
from jobs.models import Job
from studio.api.base import WorkspaceScopedViewSet

MetricsResponse = inline_serializer(
    "JobMetrics",
    {
        "job": serializers.CharField(),
        "metrics": serializers.DictField(help_text="key -> [{step, value, timestamp}] in step order"),
        "summary": serializers.DictField(help_text="key -> {last, min, max, steps, last_step}"),
        "params": serializers.DictField(),
        "tags": serializers.DictField(),
    },
)


@extend_schema(parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, description="Job name")])
class JobMetricsViewSet(WorkspaceScopedViewSet):
    queryset = Job.objects.all()
    pagination_class = None

    @extend_schema(responses=MetricsResponse)
    def list(self, request, workspace=None, name=None):
        job = get_object_or_404(self.get_queryset(), name=name)
        return Response(metrics_payload(job, key=request.query_params.get("key")))


def metrics_payload(job: Job, key: str | None = None) -> dict:
    return {
        "job": job.name,
        "metrics": tracking.metric_history(job, key),
        "summary": tracking.metric_summary(job),
        "params": dict(job.params.values_list("key", "value")),
        "tags": dict(job.run_tags.values_list("key", "value")),
    }
