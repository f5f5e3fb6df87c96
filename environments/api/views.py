"""Environment viewsets: thin. spec.parse checks input, services act, the base class checks
permissions (404 outside the caller's workspaces, 403 when the role lacks the action)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from environments import context, filters, services, spec
from environments.api.serializers import BuildSerializer, VersionSerializer
from environments.models import Environment, EnvironmentBuild, EnvironmentVersion
from environments.resolve import environment_named, resolve_environment
from studio import logs, versioning
from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import is_form, read_spec

WRITE = "environments.write"


def definition_from_request(request, *, name: str | None = None) -> spec.Definition:
    """JSON or YAML body, or multipart with `spec` (YAML/JSON text or file) and `context` (a zip)."""
    data, how = read_spec(request)
    files = None
    if is_form(request) and (upload := request.FILES.get("context")):
        files = context.from_zip(upload.read())
    return spec.parse(data, source="YAML body" if how == "yaml" else "spec", files=files, name=name)


class EnvironmentViewSet(WorkspaceScopedViewSet):
    """Environments of the workspace and the curated ones, each with its latest version."""

    queryset = Environment.objects.all()
    serializer_class = VersionSerializer
    lookup_field = "name"
    required_actions = {"create": WRITE}

    def get_queryset(self):
        return Environment.objects.visible_in(self.workspace)

    @extend_schema(
        parameters=[
            OpenApiParameter("curated", bool, description="true: curated only; false: this workspace's only"),
            OpenApiParameter("q", str, description="Name contains"),
            OpenApiParameter("tag", str, description="key or key=value, on the latest version"),
            OpenApiParameter("archived", bool, description="Include archived versions"),
        ]
    )
    def list(self, request, workspace=None):
        rows = filters.environment_rows(self.workspace, request.query_params)
        page = self.paginate_queryset(rows)
        data = []
        for row in page:
            item = VersionSerializer(row.latest).data
            item["latest_version"] = row.latest.version
            item["version_count"] = row.version_count
            item["builds"] = row.builds
            data.append(item)
        return self.get_paginated_response(data)

    def retrieve(self, request, workspace=None, name=None):
        env = self.get_object()
        versions = sorted(env.versions.all(), key=lambda v: versioning.version_sort_key(v.version), reverse=True)
        latest = versioning.latest(env.versions.all())
        return Response(
            {
                "name": env.name,
                "curated": env.curated,
                "latest_version": latest.version if latest else None,
                "versions": VersionSerializer(versions, many=True).data,
            }
        )

    @extend_schema(request=spec.EnvironmentSpec, responses={201: VersionSerializer})
    def create(self, request, workspace=None):
        definition = definition_from_request(request)
        version = services.do_create_environment_version(self.workspace, actor=request.user, definition=definition)
        return _created(version, definition)


def _created(version: EnvironmentVersion, definition: spec.Definition) -> Response:
    body = VersionSerializer(version).data | {"notices": definition.notices}
    return Response(body, status=status.HTTP_201_CREATED)


class VersionViewSet(WorkspaceScopedViewSet):
    """Versions of one environment: immutable; DELETE archives."""

    queryset = EnvironmentVersion.objects.all()
    serializer_class = VersionSerializer
    lookup_field = "version"
    required_actions = {"create": WRITE, "destroy": WRITE, "restore": WRITE, "build": WRITE}

    def environment(self) -> Environment:
        name = self.kwargs["name"]
        env = environment_named(self.workspace, name)
        if env is None:
            raise Http404(f"No environment named {name!r} in {self.workspace.name}.")
        return env

    def get_queryset(self):
        return EnvironmentVersion.objects.filter(environment=self.environment()).select_related(
            "environment", "created_by"
        )

    def get_object(self) -> EnvironmentVersion:
        wanted = self.kwargs["version"]
        if wanted == "latest":
            return resolve_environment(self.workspace, f"{self.kwargs['name']}@latest")
        version = self.get_queryset().filter(version=wanted).first()
        if version is None:
            raise Http404(f"{self.kwargs['name']} has no version {wanted!r}.")
        return version

    def list(self, request, workspace=None, name=None):
        rows = self.get_queryset()
        if request.query_params.get("archived", "").lower() not in ("true", "1"):
            rows = rows.filter(archived=False)
        ordered = sorted(rows, key=lambda v: versioning.version_sort_key(v.version), reverse=True)
        page = self.paginate_queryset(ordered)
        return self.get_paginated_response(VersionSerializer(page, many=True).data)

    def retrieve(self, request, workspace=None, name=None, version=None):
        return Response(VersionSerializer(self.get_object()).data)

    @extend_schema(request=spec.EnvironmentSpec, responses={201: VersionSerializer})
    def create(self, request, workspace=None, name=None):
        definition = definition_from_request(request, name=name)
        version = services.do_create_environment_version(self.workspace, actor=request.user, definition=definition)
        return _created(version, definition)

    def destroy(self, request, workspace=None, name=None, version=None):
        row = services.do_archive_environment_version(self.get_object(), actor=request.user, workspace=self.workspace)
        return Response(VersionSerializer(row).data)

    @action(detail=True, methods=["post"])
    def restore(self, request, workspace=None, name=None, version=None):
        row = services.do_restore_environment_version(self.get_object(), actor=request.user, workspace=self.workspace)
        return Response(VersionSerializer(row).data)

    @extend_schema(request=None, responses={200: BuildSerializer, 202: BuildSerializer})
    @action(detail=True, methods=["post"])
    def build(self, request, workspace=None, name=None, version=None):
        """Start a build (idempotent by spec hash): 202 when queued, 200 when already built or under way."""
        data = request.data if isinstance(request.data, dict) else {}
        rebuild = data.get("rebuild", data.get("force", False))
        build, how = services.do_start_build(
            self.get_object(),
            backend=str(data.get("backend", "")),
            workspace=self.workspace,
            actor=request.user,
            force=rebuild in (True, "true", "1", 1),
        )
        code = status.HTTP_202_ACCEPTED if how == "queued" else status.HTTP_200_OK
        return Response(BuildSerializer(build).data | {"result": how}, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("backend", str),
            OpenApiParameter("build", int, description="A build id (default: the latest)"),
            OpenApiParameter("offset", int, description="Log cursor: characters already read"),
        ],
        responses=BuildSerializer,
    )
    @build.mapping.get
    def build_status(self, request, workspace=None, name=None, version=None):
        """The latest build (or ?build=id) with the log from ?offset= on."""
        row = self.get_object()
        builds = EnvironmentBuild.objects.visible_in(self.workspace).filter(version=row)
        if backend := request.query_params.get("backend"):
            builds = builds.filter(backend=backend)
        if build_id := request.query_params.get("build"):
            builds = builds.filter(pk=build_id if build_id.isdigit() else 0)
        build = builds.order_by("-created_at", "-pk").first()
        if build is None:
            raise Http404(f"{row.reference} has no build here yet; POST to this address to start one.")
        try:
            offset = int(request.query_params.get("offset", "0"))
        except ValueError:
            offset = 0
        final = build.is_final
        piece = logs.read(build.log_stream, offset)
        body = BuildSerializer(build).data | {
            "final": final,
            "log": piece.text,
            "offset": piece.offset,
            "next_offset": piece.next_offset,
            "log_size": piece.size,
        }
        return Response(body)
