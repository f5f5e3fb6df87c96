"""The compute API's viewset (the routes are in urls.py beside this module)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from compute import services
from compute.api.serializers import ComputeSerializer, NodeSerializer
from compute.filters import ComputeFilter
from compute.models import ComputeTarget
from compute.overview import attach
from compute.spec import ComputeSpec
from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import read_spec
from studio.permissions import VIEW

MANAGE = "compute.manage"


class ComputeViewSet(WorkspaceScopedViewSet):
    """Compute targets of a workspace."""

    queryset = ComputeTarget.objects.select_related("workspace", "created_by", "assigned_to")
    serializer_class = ComputeSerializer
    filterset_class = ComputeFilter
    lookup_field = "name"
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

    @extend_schema(request=ComputeSpec, responses={201: ComputeSerializer})
    def create(self, request, workspace=None):
        target = services.do_create_compute(self.workspace, data=read_spec(request)[0], actor=request.user)
        return self._answer(target, status.HTTP_201_CREATED)

    @extend_schema(request=ComputeSpec, responses={200: ComputeSerializer})
    def partial_update(self, request, workspace=None, name=None):
        target = services.do_update_compute(self.get_object(), data=read_spec(request)[0], actor=request.user)
        return self._answer(target)

    def destroy(self, request, workspace=None, name=None):
        services.do_delete_compute(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _operable(self) -> ComputeTarget:
        return services.check_can_operate(self.request.user, self.get_object())

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
