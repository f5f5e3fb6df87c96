"""What the API of every versioned asset's version rows shares (data versions, model versions):
versions are immutable, so DELETE archives and POST .../restore/ brings one back, and a PATCH may
not touch the fields that make a version what it is."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from studio.api.body import truthy


class VersionViewSetMixin:
    """For a viewset over version rows, looked up by `version`, under /<assets>/<name>/versions/.
    The subclass names its asset model, serializers and services, says how to find a version
    (`find_version`), and brings `_create` (the app's create mixin, shared with its asset list)."""

    asset_model: Any  # the named asset whose versions these are (DataAsset, Model)
    asset_label = "asset"  # for "No <label> <name> in <workspace>."
    detail_serializer_class: Any
    write_serializer_class: Any  # what a PATCH may say
    immutable_fields: tuple[str, ...] = ("version", "type", "path")
    immutable_message = "Versions are immutable: create a new version instead."
    # The app's do_* functions that archive and restore a version: staticmethod(f), f(version, *, actor)
    archive_service: Any
    restore_service: Any

    def find_version(self, name: str, version: str) -> Any:
        """The version row (`version` may be "latest"), or Http404."""
        raise NotImplementedError

    def get_object(self):
        found = self.find_version(self.kwargs["name"], self.kwargs["version"])  # type: ignore[attr-defined]
        self.check_object_permissions(self.request, found)  # type: ignore[attr-defined]
        return found

    def patch_body(self, request) -> dict[str, Any]:
        """A PATCH body, validated: it may change description and tags (and what the subclass
        allows), never what the version holds."""
        serializer = self.write_serializer_class(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        fixed = [k for k in self.immutable_fields if k in body]
        if fixed:
            raise ValidationError({fixed[0]: [self.immutable_message]})
        return body

    def create(self, request, workspace, name):
        return self._create(request, name)  # type: ignore[attr-defined]  # the app's create mixin

    def list(self, request, workspace, name):
        """The versions of asset `name` (?archived=false leaves the archived ones out)."""
        here = self.workspace  # type: ignore[attr-defined]
        if not self.asset_model.objects.filter(workspace=here, name=name).exists():
            raise Http404(f"No {self.asset_label} {name} in {here.name}.")
        versions = self.get_queryset()  # type: ignore[attr-defined]
        if not truthy(request.query_params.get("archived", "true")):
            versions = versions.unarchived()
        page = self.paginate_queryset(versions)  # type: ignore[attr-defined]
        return self.get_paginated_response(self.serializer_class(page, many=True).data)  # type: ignore[attr-defined]

    def retrieve(self, request, workspace, name, version):
        return Response(self.detail_serializer_class(self.get_object()).data)  # type: ignore[attr-defined]

    def destroy(self, request, workspace, name, version):
        self.archive_service(self.get_object(), actor=request.user)  # type: ignore[attr-defined]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def restore(self, request, workspace, name, version):
        queryset = self.get_queryset()  # type: ignore[attr-defined]
        found = self.restore_service(get_object_or_404(queryset, version=version), actor=request.user)
        return Response(self.detail_serializer_class(found).data)
