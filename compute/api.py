"""REST endpoints of the compute app, mounted under /api/v1/ (see studio.api.urls.WS for the prefix).

    GET, POST      workspaces/{ws}/computes/
    GET, PATCH, DELETE  workspaces/{ws}/computes/{name}/
    POST           workspaces/{ws}/computes/{name}/start/   /stop/
    GET            workspaces/{ws}/computes/{name}/nodes/
    POST           workspaces/{ws}/computes/{name}/nodes/{worker_name}/drain/

POST and PATCH take JSON, or an Azure ML CLI v2 compute YAML (Content-Type: application/yaml),
or multipart with a "spec" file. Thin: compute.spec validates, compute.services acts.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from compute import services
from compute.filters import ComputeFilter
from compute.models import ComputeTarget
from compute.overview import attach
from compute.serializers import ComputeInputSerializer, ComputeSerializer, NodeSerializer
from compute.spec import parse_yaml
from studio.api.base import WorkspaceScopedViewSet
from studio.permissions import VIEW, can_operate_compute, operate_denied_message

MANAGE = "compute.manage"


class YAMLParser(BaseParser):
    """An Azure ML CLI v2 YAML body; keeps each key's line for error messages."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        return parse_yaml(stream.read().decode("utf-8", errors="replace"), source="request body")


class TextYAMLParser(YAMLParser):
    media_type = "text/yaml"


class XYAMLParser(YAMLParser):
    media_type = "application/x-yaml"


def definition_from(request) -> Mapping:
    """The compute definition of a POST/PATCH, whatever form it came in."""
    data = request.data
    if hasattr(data, "getlist"):  # multipart or form: a "spec" file or field holds YAML or JSON
        spec = data.get("spec")
        if spec is None:
            raise ValidationError({"spec": ["Send the definition as JSON, as YAML, or as a multipart 'spec' file."]})
        if hasattr(spec, "read"):
            return parse_yaml(spec.read().decode("utf-8", errors="replace"), source=getattr(spec, "name", "spec"))
        return parse_yaml(str(spec), source="spec")
    if not isinstance(data, Mapping):
        raise ValidationError({"spec": ["Expected an object of keys to values."]})
    return data


class ComputeViewSet(WorkspaceScopedViewSet):
    """Compute targets of a workspace."""

    queryset = ComputeTarget.objects.select_related("workspace", "created_by", "assigned_to")
    serializer_class = ComputeSerializer
    filterset_class = ComputeFilter
    lookup_field = "name"
    parser_classes = [JSONParser, YAMLParser, TextYAMLParser, XYAMLParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_actions = {
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
        "start": VIEW,  # object-level: can_operate_compute
        "stop": VIEW,
        "drain_node": VIEW,  # object-level: can_manage_machine (the shared local worker is the admin's)
    }

    def list(self, request, workspace=None):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(attach(page), many=True).data)

    def retrieve(self, request, workspace=None, name=None):
        return Response(self.get_serializer(self.get_object()).data)

    def _answer(self, target: ComputeTarget, code=status.HTTP_200_OK) -> Response:
        body = self.get_serializer(target).data
        if getattr(target, "notices", None):
            body["notices"] = target.notices
        return Response(body, status=code)

    @extend_schema(request=ComputeInputSerializer, responses={201: ComputeSerializer})
    def create(self, request, workspace=None):
        target = services.do_create_compute(self.workspace, data=definition_from(request), actor=request.user)
        return self._answer(target, status.HTTP_201_CREATED)

    @extend_schema(request=ComputeInputSerializer, responses={200: ComputeSerializer})
    def partial_update(self, request, workspace=None, name=None):
        target = services.do_update_compute(self.get_object(), data=definition_from(request), actor=request.user)
        return self._answer(target)

    def destroy(self, request, workspace=None, name=None):
        services.do_delete_compute(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _operable(self) -> ComputeTarget:
        target = self.get_object()
        if not can_operate_compute(self.request.user, target):
            raise exceptions.PermissionDenied(operate_denied_message(target))
        return target

    @extend_schema(request=None, responses={200: ComputeSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, workspace=None, name=None):
        return self._answer(services.do_start_compute(self._operable(), actor=request.user))

    @extend_schema(request=None, responses={200: ComputeSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, workspace=None, name=None):
        return self._answer(services.do_stop_compute(self._operable(), actor=request.user))

    @extend_schema(responses={200: NodeSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def nodes(self, request, workspace=None, name=None):
        nodes = self.get_object().nodes().recent()
        return Response(NodeSerializer(nodes, many=True).data)

    @extend_schema(request=None, responses={200: NodeSerializer})
    @action(detail=True, methods=["post"], url_path=r"nodes/(?P<worker_name>[^/]+)/drain")
    def drain_node(self, request, workspace=None, name=None, worker_name=None):
        target = self.get_object()
        node = get_object_or_404(target.nodes(), worker_name=worker_name)
        node = services.do_request_drain(node, target=target, actor=request.user)
        return Response(NodeSerializer(node).data)


router = SimpleRouter()
router.register(r"workspaces/(?P<workspace>[^/.]+)/computes", ComputeViewSet, basename="compute")

urlpatterns = router.urls
