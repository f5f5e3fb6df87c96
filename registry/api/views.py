"""The models API's viewsets (the routes are in urls.py beside this module)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from datastores.downloads import download_response, storage_errors
from datastores.uploads import discard, parse_multipart
from registry import services
from registry import spec as model_spec
from registry.api import serializers as s
from registry.models import Model, ModelVersion
from registry.zipping import iter_zip
from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import truthy
from studio.api.versioned import VersionViewSetMixin
from studio.forms import parse_tags
from studio.tags import clean_tags
from studio.yamlspec import load_mapping

WRITE = "models.write"


def _mapping_field(value, field: str):
    """Multipart fields carry properties as JSON or `a=b, c=d`; JSON bodies as a mapping."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if not value:
        return {}
    if value.startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ValidationError({field: ["Not valid JSON."]}) from None
    try:
        return parse_tags(value)
    except Exception as exc:  # forms.ValidationError from the shared tag parser
        raise ValidationError({field: [" ".join(getattr(exc, "messages", [str(exc)]))]}) from None


def _versions_of(queryset):
    return queryset.select_related("model", "datastore", "created_by", "workspace").prefetch_related("aliases")


class _CreateVersionMixin:
    """POST bodies for a new version: JSON, an Azure ML model YAML, or multipart with `spec`
    (YAML or JSON) or plain fields plus the files of a local folder or one zip."""

    def _create(self, request, name: str | None):
        sink = None
        if (request.content_type or "").startswith("multipart/form-data"):
            sink = services.upload_sink_for(self.workspace)
            try:
                with storage_errors("file"):
                    form, _ = parse_multipart(request._request, sink)
                raw: dict = {}
                if form.get("spec"):
                    text = form["spec"]
                    raw = json.loads(text) if text.lstrip().startswith("{") else load_mapping(text, source="model YAML")
                for key in ("name", "version", "type", "path", "description", "tags", "properties"):
                    if form.get(key) not in (None, ""):
                        raw[key] = form[key]
                body = model_spec.clean(raw, source="model YAML" if form.get("spec") else "form")
            except (ValidationError, json.JSONDecodeError, ValueError) as exc:
                discard(sink)
                if isinstance(exc, ValidationError):
                    raise
                raise ValidationError({"spec": ["The spec is not valid JSON."]}) from None
            except Exception:
                discard(sink)
                raise
        else:  # JSON or a model YAML: the one schema checks either
            source = "model YAML" if "yaml" in (request.content_type or "") else "spec"
            body = model_spec.clean(request.data, source=source)
        try:
            if name is not None:
                if body.get("name") not in (None, "", name):
                    raise ValidationError({"name": [f"The body names {body['name']!r} but the URL names {name!r}."]})
                body["name"] = name
            if not body.get("name"):
                raise ValidationError({"name": ["This field is required."]})
            fields = {
                "actor": request.user,
                "name": str(body["name"]),
                "type": body.get("type") or None,
                "version": body.get("version"),
                "description": str(body.get("description") or ""),
                "tags": clean_tags(body.get("tags")),
                "properties": _mapping_field(body.get("properties"), "properties"),
            }
        except ValidationError:
            if sink is not None:
                discard(sink)
            raise
        if sink is not None and (sink.files or sink.current):
            if body.get("path"):
                discard(sink)
                raise ValidationError({"path": ["Send either files or a path, not both."]})
            version = services.do_create_model_version_from_upload(self.workspace, sink, **fields)
        else:
            if sink is not None:
                discard(sink)
            version = services.do_create_model_version(self.workspace, path=str(body.get("path") or ""), **fields)
        return Response(s.ModelVersionDetailSerializer(version).data, status=status.HTTP_201_CREATED)


class ModelViewSet(_CreateVersionMixin, WorkspaceScopedViewSet):
    """Models: the latest version of each in the list; the model itself (description, tags,
    aliases) by name."""

    queryset = Model.objects.select_related("workspace", "created_by")
    serializer_class = s.ModelSerializer
    lookup_field = "name"
    required_actions = {"create": WRITE, "partial_update": WRITE}

    def list(self, request, workspace):
        versions = ModelVersion.objects.filter(workspace=self.workspace)
        if q := request.query_params.get("name"):
            versions = versions.filter(model__name__icontains=q)
        ids = services.latest_version_ids(
            versions,
            include_archived=truthy(request.query_params.get("archived")),
            tag=request.query_params.get("tag", ""),
        )
        page = self.paginate_queryset(ids)
        return self.get_paginated_response(s.ModelVersionSerializer(services.fetch_versions(page), many=True).data)

    def retrieve(self, request, workspace, name):
        return Response(s.ModelSerializer(self.get_object()).data)

    @extend_schema(request=model_spec.ModelSpec, responses={201: s.ModelVersionDetailSerializer})
    def create(self, request, workspace):
        return self._create(request, None)

    def partial_update(self, request, workspace, name):
        serializer = s.ModelWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        model = services.do_update_model(
            self.get_object(), actor=request.user, description=body.get("description"), tags=body.get("tags")
        )
        return Response(s.ModelSerializer(model).data)


class ModelVersionViewSet(_CreateVersionMixin, VersionViewSetMixin, WorkspaceScopedViewSet):
    """Versions of one model; {v} may be "latest". DELETE archives (versions are immutable)."""

    queryset = ModelVersion.objects.all()
    serializer_class = s.ModelVersionSerializer
    detail_serializer_class = s.ModelVersionDetailSerializer
    write_serializer_class = model_spec.ModelSpec
    archive_service = staticmethod(services.do_archive_model_version)
    restore_service = staticmethod(services.do_restore_model_version)
    asset_model = Model
    asset_label = "model"
    immutable_fields = ("name", "version", "type", "path", "properties")
    immutable_message = "Versions are immutable: register a new version instead."
    lookup_field = "version"
    lookup_value_regex = "[^/]+"
    required_actions = {
        "create": WRITE,
        "partial_update": WRITE,
        "destroy": WRITE,
        "restore": WRITE,
        "aliases": WRITE,
        "delete_alias": WRITE,
        "stage": WRITE,
    }

    def get_queryset(self):
        return _versions_of(super().get_queryset().filter(model__name=self.kwargs.get("name", "")))

    def find_version(self, name, version):
        return services.get_version(self.workspace, name, version)

    @extend_schema(request=model_spec.ModelSpec, responses={201: s.ModelVersionDetailSerializer})
    def create(self, request, workspace, name):
        return self._create(request, name)

    @extend_schema(request=model_spec.ModelSpec, responses={200: s.ModelVersionDetailSerializer})
    def partial_update(self, request, workspace, name, version):
        body = self.patch_body(request)
        found = self.get_object()
        stage = request.data.get("stage") if isinstance(request.data, dict) else None  # an Azure key in files
        if stage is not None:
            services.do_set_stage(found, str(stage), actor=request.user)
        found = services.do_update_model_version(
            found, actor=request.user, description=body.get("description"), tags=body.get("tags")
        )
        return Response(s.ModelVersionDetailSerializer(found).data)

    @action(detail=True, methods=["get"], url_path="files")
    def files(self, request, workspace, name, version):
        """The version's files; with ?path=<file>, that file's bytes (streamed)."""
        found = self.get_object()
        if request.query_params.get("path") is not None:
            return download_response(request, found.datastore, services.file_path(found, request.query_params["path"]))
        with storage_errors():
            entries = services.list_files(found)
        return Response({"files": [{"path": e.path, "size": e.size} for e in entries]})

    @action(detail=True, methods=["get"], url_path="download")
    def download(self, request, workspace, name, version):
        """Every file of the version as one zip, streamed while it is made."""
        found = self.get_object()
        location = services.files_location(found)
        with storage_errors():
            entries = services.list_files(found)
        files = [(services.file_path(found, e.path), e.path) for e in entries]
        response = StreamingHttpResponse(iter_zip(location.store, files), content_type="application/zip")
        response["Content-Disposition"] = content_disposition_header(True, f"{found.model.name}-{found.version}.zip")
        return response

    @action(detail=True, methods=["post"], url_path="aliases")
    def aliases(self, request, workspace, name, version):
        serializer = s.AliasSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        found = self.get_object()
        services.do_set_alias(found, serializer.validated_data["alias"], actor=request.user)
        return Response(s.ModelVersionDetailSerializer(self.get_object()).data)

    @aliases.mapping.delete
    def delete_alias(self, request, workspace, name, version):
        found = self.get_object()
        alias = request.query_params.get("alias", "")
        if not found.aliases.filter(alias=alias).exists():
            raise ValidationError({"alias": [f"{found.reference} has no alias {alias!r}."]})
        services.do_delete_alias(found.model, alias, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], url_path="stage")
    def stage(self, request, workspace, name, version):
        serializer = s.StageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        found = services.do_set_stage(
            self.get_object(),
            serializer.validated_data["stage"],
            actor=request.user,
            archive_existing=serializer.validated_data["archive_existing_versions"],
        )
        return Response(s.ModelVersionDetailSerializer(found).data)
