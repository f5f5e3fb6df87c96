"""REST endpoints of the pipelines app, mounted under /api/v1/:

workspaces/{ws}/components/                         GET the latest version of each; POST a component
workspaces/{ws}/components/{name}/versions/         GET, POST (JSON, YAML, or multipart `spec` + `code` zip)
workspaces/{ws}/components/{name}/versions/{v}/     GET ({v} may be "latest"), DELETE archives; /restore/ POST
workspaces/{ws}/jobs/{name}/steps/                  GET a pipeline job's steps (state, reuse, explanation)
workspaces/{ws}/jobs/{name}/steps/{step}/rerun/     POST: a new run from this step (earlier steps reused)

Pipeline jobs themselves are submitted, listed and canceled through the jobs endpoints (`type: pipeline`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from jobs import services as job_services
from jobs.api.serializers import JobSerializer
from jobs.models import Job, JobType
from pipelines.api import serializers as s
from pipelines.models import Component, ComponentVersion, PipelineStep
from pipelines.schema import CommandComponentSpec
from pipelines.services import components as component_services
from pipelines.services import pipelines as pipeline_services
from studio import versioning
from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import is_form, read_spec, truthy


class _CreateMixin:
    required_actions = {"create": "jobs.submit", "destroy": "jobs.submit", "restore": "jobs.submit"}

    def _create(self, request, name: str | None):
        data, _source = read_spec(request)  # a LineDict for YAML: errors name the line
        if not isinstance(data, dict):
            data = dict(data)
        snapshot = None
        if is_form(request) and (upload := request.FILES.get("code")):
            snapshot = job_services.do_create_code_snapshot(self.workspace, actor=request.user, zip_file=upload)
        if name is not None:
            if data.get("name") not in (None, "", name):
                raise ValidationError({"name": [f"The body names {data['name']!r} but the URL names {name!r}."]})
            data["name"] = name
        version = component_services.do_create_component_version(
            self.workspace, actor=request.user, data=data, code=snapshot
        )
        body = s.ComponentVersionSerializer(version).data
        body["notices"] = getattr(version, "notices", [])
        return Response(body, status=status.HTTP_201_CREATED)


class ComponentViewSet(_CreateMixin, WorkspaceScopedViewSet):
    """Components: the latest version of each (`?archived=true` includes archived ones)."""

    queryset = ComponentVersion.objects.select_related("component", "code", "created_by")
    serializer_class = s.ComponentVersionSerializer

    def list(self, request, workspace):
        include_archived = truthy(request.query_params.get("archived"))
        components = Component.objects.filter(workspace=self.workspace).order_by("name")
        page = self.paginate_queryset(components)
        rows: dict[int, list] = {}
        for v in self.get_queryset().filter(component__in=page):
            rows.setdefault(v.component_id, []).append(v)
        out = []
        for component in page:
            candidates = [v for v in rows.get(component.pk, []) if include_archived or not v.archived]
            if candidates:
                out.append(versioning.newest(candidates))
        return self.get_paginated_response(s.ComponentVersionSerializer(out, many=True).data)

    @extend_schema(request=CommandComponentSpec, responses={201: s.ComponentVersionSerializer})
    def create(self, request, workspace):
        return self._create(request, None)


class ComponentVersionViewSet(_CreateMixin, WorkspaceScopedViewSet):
    """Versions of one component; {v} may be "latest". DELETE archives (versions are immutable)."""

    queryset = ComponentVersion.objects.select_related("component", "code", "created_by")
    serializer_class = s.ComponentVersionSerializer
    lookup_field = "version"

    def get_queryset(self):
        return super().get_queryset().filter(component__name=self.kwargs.get("name", ""))

    def get_object(self):
        version = self.kwargs["version"]
        rows = self.get_queryset()
        if version == "latest":
            found = versioning.latest(rows)
            if found is None:
                raise Http404(f"No component {self.kwargs['name']} in {self.workspace.name}.")
            return found
        return get_object_or_404(rows, version=version)

    def list(self, request, workspace, name):
        rows = self.get_queryset()
        if not rows.exists():
            raise Http404(f"No component {name} in {self.workspace.name}.")
        page = self.paginate_queryset(versioning.sort_versions(list(rows)))
        return self.get_paginated_response(s.ComponentVersionSerializer(page, many=True).data)

    def retrieve(self, request, workspace, name, version):
        return Response(s.ComponentVersionSerializer(self.get_object()).data)

    @extend_schema(request=CommandComponentSpec, responses={201: s.ComponentVersionSerializer})
    def create(self, request, workspace, name):
        return self._create(request, name)

    def destroy(self, request, workspace, name, version):
        component_services.do_archive_component_version(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.ComponentVersionSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, workspace, name, version):
        found = component_services.do_restore_component_version(self.get_object(), actor=request.user)
        return Response(s.ComponentVersionSerializer(found).data)


class PipelineStepViewSet(WorkspaceScopedViewSet):
    """The steps of a pipeline job, and "rerun from this step"."""

    queryset = PipelineStep.objects.select_related("job", "reused_from", "pipeline", "component_version__component")
    serializer_class = s.PipelineStepSerializer
    lookup_field = "step"
    required_actions = {"rerun": "jobs.submit"}

    def _pipeline_job(self, name: str) -> Job:
        return get_object_or_404(Job.objects.filter(workspace=self.workspace, type=JobType.PIPELINE), name=name)

    def list(self, request, workspace, name):
        job = self._pipeline_job(name)
        rows = self.get_queryset().filter(pipeline__job=job)
        return Response(s.PipelineStepSerializer(rows, many=True).data)

    @extend_schema(request=None, responses={201: JobSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request, workspace, name, step):
        job = self._pipeline_job(name)
        new = pipeline_services.do_rerun_from_step(job, step, actor=request.user)
        return Response(JobSerializer(new).data, status=status.HTTP_201_CREATED)
