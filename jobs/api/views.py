"""Job, code and experiment endpoints. Thin: the spec module validates, services act, the base
class checks permissions (404 outside the caller's workspaces, 403 without the action)."""

from __future__ import annotations

import mimetypes

from django.db.models import Count, Max
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from jobs import artifacts, children, code, logfiles, services
from jobs.api import serializers as s
from jobs.filters import JobFilter
from jobs.metrics.values import last_metric_values
from jobs.models import CodeSnapshot, Experiment, Job
from jobs.services.archive import ARCHIVE_ACTION
from jobs.spec import CommandJobSpec
from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import is_form, read_spec


def _output_entries(job: Job) -> list[dict]:
    out = []
    for entry in artifacts.list_outputs(job):
        rel = entry["path"].removeprefix("outputs/")
        first = rel.split("/", 1)[0]
        out.append(
            {"path": rel, "size": entry["size"], "output_name": first if first in job.outputs and "/" in rel else None}
        )
    return out


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceScopedViewSet):
    """Command jobs. POST submits (JSON with a code id, or multipart `spec` + `code` zip)."""

    queryset = Job.objects.select_related("experiment", "code", "created_by", "canceled_by", "workspace")
    lookup_field = "name"
    filterset_class = JobFilter
    required_actions = {
        "create": "jobs.submit",
        "cancel": "jobs.cancel",
        "destroy": "jobs.delete",
        "archive": ARCHIVE_ACTION,
        "restore": ARCHIVE_ACTION,
    }

    def get_serializer_class(self):
        return s.JobListSerializer if self.action == "list" else s.JobSerializer

    def filter_queryset(self, queryset):
        # The list's filters (which hide archived jobs) must not hide a job asked for by name.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    # A command job, or a job of a registered type (sweep, pipeline) described by its own schema.
    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="JobDefinition",
            serializers=lambda: [CommandJobSpec, *children.schemas()],
            resource_type_field_name=None,
        ),
        responses={201: s.JobSerializer},
    )
    def create(self, request, workspace=None):
        # JSON or YAML body, or multipart: the job as YAML or JSON text in "spec", its code as a zip in "code"
        data, source = read_spec(request)
        snapshot = None
        if is_form(request) and (upload := request.FILES.get("code")):
            snapshot = services.do_create_code_snapshot(self.workspace, actor=request.user, zip_file=upload)
        job = services.do_submit_job(self.workspace, actor=request.user, data=data, code=snapshot, source=source)
        return Response(s.JobSerializer(job).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, workspace=None, name=None):
        services.do_delete_job(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, workspace=None, name=None):
        job = services.do_cancel_job(self.get_object(), actor=request.user)
        return Response(s.JobSerializer(job).data)

    @extend_schema(request=None, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, workspace=None, name=None):
        job = services.do_archive_job(self.get_object(), actor=request.user)
        return Response(s.JobSerializer(job).data)

    @extend_schema(request=None, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, workspace=None, name=None):
        job = services.do_restore_job(self.get_object(), actor=request.user)
        return Response(s.JobSerializer(job).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("offset", int, description="Characters to skip; negative = the last -offset characters"),
            OpenApiParameter("limit", int, description="At most this many characters (default 256 KiB, max 1 MiB)"),
            OpenApiParameter("file", str, description="Log file, default user_logs/std_log.txt"),
        ],
        responses=s.LogSliceSerializer,
    )
    @action(detail=True, methods=["get"])
    def logs(self, request, workspace=None, name=None):
        job = self.get_object()
        try:
            offset = int(request.query_params.get("offset", 0))
            limit = int(request.query_params.get("limit", 256 * 1024))
        except ValueError:
            return Response({"detail": "offset and limit are whole numbers.", "errors": {}}, status=400)
        path = logfiles.check_file(request.query_params.get("file", ""))
        with_line = request.query_params.get("lines") == "1"
        return Response(logfiles.slice_payload(job, path, offset, limit, with_line=with_line))

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"], url_path="outputs")
    def outputs_tree(self, request, workspace=None, name=None):
        """The job's files: `files` under outputs/ (download each at /outputs/<path>) and `logs`."""
        job = self.get_object()
        return Response({"files": _output_entries(job), "logs": logfiles.list_files(job)})

    @extend_schema(operation_id="jobs_output_file_download", responses={(200, "application/octet-stream"): bytes})
    def output_file(self, request, workspace=None, name=None, path=None):
        job = self.get_object()
        target = artifacts.open_output(job, path or "")
        if target is None:
            raise Http404("No such output file.")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return FileResponse(open(target, "rb"), as_attachment=True, filename=target.name, content_type=kind)


class CodeViewSet(mixins.RetrieveModelMixin, WorkspaceScopedViewSet):
    """Content-addressed code snapshots: POST a zip (multipart "file"), get its id for a job."""

    queryset = CodeSnapshot.objects.select_related("created_by")
    serializer_class = s.CodeSnapshotSerializer
    lookup_field = "hash"
    required_actions = {"create": "jobs.submit"}

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={201: s.CodeSnapshotSerializer},
    )
    def create(self, request, workspace=None):
        upload = request.FILES.get("file") or request.FILES.get("code")
        if upload is None:
            return Response(
                {
                    "detail": "Send the code as a zip in the multipart field 'file'.",
                    "errors": {"file": ["This field is required."]},
                },
                status=400,
            )
        snapshot = services.do_create_code_snapshot(self.workspace, actor=request.user, zip_file=upload)
        return Response(s.CodeSnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, workspace=None, hash=None):
        snapshot = get_object_or_404(self.get_queryset(), hash=hash)
        return Response(s.CodeSnapshotSerializer(snapshot).data | {"files": code.list_files(snapshot)})


class ExperimentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceScopedViewSet):
    serializer_class = s.ExperimentSerializer
    lookup_field = "name"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no workspace
            return Experiment.objects.none()
        return (
            Experiment.objects.filter(workspace=self.workspace)
            .select_related("created_by")
            .annotate(job_count=Count("jobs"), last_job_at=Max("jobs__created_at"))
            .order_by("name")
        )

    def retrieve(self, request, workspace=None, name=None):
        experiment = self.get_object()
        jobs = list(
            Job.objects.filter(experiment=experiment).select_related("created_by", "experiment", "workspace")[:200]
        )
        summary = last_metric_values(jobs)
        rows = [s.JobListSerializer(job).data | {"metrics": summary.get(job.pk, {})} for job in jobs]
        return Response(s.ExperimentSerializer(experiment).data | {"jobs": rows})
