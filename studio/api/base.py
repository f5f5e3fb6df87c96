"""The one DRF base for workspace resources: resolves the workspace (404 for non-members) and
checks the action (403) before any handler runs."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.permissions import SAFE_METHODS

from studio.models import Workspace
from studio.permissions import VIEW, can, denied_message


@extend_schema(parameters=[OpenApiParameter("workspace", str, OpenApiParameter.PATH, description="Workspace name")])
class WorkspaceScopedViewSet(viewsets.GenericViewSet):
    """Subclasses declare `required_actions` (viewset action -> permission action) for every
    unsafe action; safe methods need `workspace.view` unless they say otherwise."""

    lookup_value_regex = "[^/]+"
    required_actions: dict[str, str] = {}
    workspace: Workspace

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.workspace = get_object_or_404(Workspace.objects.for_user(request.user), name=kwargs["workspace"])
        action = self.required_actions.get(self.action)
        if action is None:
            if request.method not in SAFE_METHODS:
                raise ImproperlyConfigured(f"{type(self).__name__}.{self.action} declares no required action")
            action = VIEW
        if not can(request.user, self.workspace, action):
            raise exceptions.PermissionDenied(denied_message(self.workspace, action))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no workspace
            return super().get_queryset().none()
        return super().get_queryset().filter(workspace=self.workspace)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["workspace"] = getattr(self, "workspace", None)
        return context
