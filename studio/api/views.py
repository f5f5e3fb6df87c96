"""REST endpoints for tokens, users, workspaces, members, roles and activity. Thin: serializers
validate, services act, the base class checks permissions."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from studio import services
from studio.api import serializers as s
from studio.api.base import WorkspaceScopedViewSet
from studio.authentication import BearerTokenAuthentication, CountedBasicAuthentication
from studio.filters import ActivityFilter
from studio.models import AccessToken, ActivityEvent, Membership, Role, Workspace
from studio.permissions import can, denied_message
from studio.roles import roles_for_workspace

User = get_user_model()


class TokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Personal access tokens. POST with HTTP Basic auth lets scripts bootstrap."""

    lookup_value_regex = "[0-9]+"

    authentication_classes = [CountedBasicAuthentication, BearerTokenAuthentication, SessionAuthentication]
    serializer_class = s.TokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessToken.objects.none()
        return AccessToken.objects.filter(user=self.request.user)

    @extend_schema(request=s.TokenCreateSerializer, responses={201: s.TokenSerializer})
    def create(self, request):
        data = s.TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expires_at = data.validated_data.get("expires_at")
        if days := data.validated_data.get("expires_in_days"):
            expires_at = timezone.now() + timedelta(days=days)
        token, raw = services.do_create_token(
            user=request.user, name=data.validated_data["name"], expires_at=expires_at
        )
        body = s.TokenSerializer(token).data | {"token": raw}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        token = get_object_or_404(self.get_queryset(), pk=pk)
        services.do_revoke_token(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAdminUser]
    serializer_class = s.UserSerializer
    queryset = User.objects.order_by("username")

    def create(self, request):
        data = s.UserSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.do_create_user(
            username=data.validated_data["username"],
            password=data.validated_data["password"],
            email=data.validated_data.get("email", ""),
            actor=request.user,
        )
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class WorkspaceViewSet(viewsets.GenericViewSet):
    serializer_class = s.WorkspaceSerializer
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Workspace.objects.none()
        mine = (
            Membership.objects.filter(user=self.request.user)
            .select_related("role")
            .prefetch_related("role__permissions")
        )
        return (
            Workspace.objects.for_user(self.request.user)
            .select_related("created_by")
            .prefetch_related(Prefetch("memberships", queryset=mine, to_attr="my_memberships"))
            .order_by("name")
        )

    def _get(self, action: str) -> Workspace:
        workspace = get_object_or_404(self.get_queryset(), name=self.kwargs["name"])
        if not can(self.request.user, workspace, action):
            raise exceptions.PermissionDenied(denied_message(workspace, action))
        return workspace

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = services.do_create_workspace(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(workspace).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, name=None):
        return Response(self.get_serializer(self._get("workspace.view")).data)

    @extend_schema(request=s.WorkspaceUpdateSerializer)
    def partial_update(self, request, name=None):
        workspace = self._get("workspace.manage")
        data = s.WorkspaceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.do_update_workspace(workspace, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(workspace).data)

    @extend_schema(
        parameters=[OpenApiParameter("confirm", str, description="the workspace's name; needed when it holds anything")]
    )
    def destroy(self, request, name=None):
        """Delete the workspace. One that holds jobs, environments, data, datastores or compute
        needs `?confirm=<its name>`; without it the answer is 409 saying what would go."""
        workspace = self._get("workspace.delete")
        body = request.data if isinstance(request.data, dict) else {}
        confirm = request.query_params.get("confirm") or body.get("confirm")
        services.do_delete_workspace(workspace, actor=request.user, confirm=confirm)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberViewSet(WorkspaceScopedViewSet):
    queryset = Membership.objects.select_related("user", "role", "added_by")
    serializer_class = s.MemberSerializer
    lookup_field = "user__username"
    lookup_url_kwarg = "username"
    required_actions = {"create": "members.manage", "partial_update": "members.manage", "destroy": "members.manage"}

    def list(self, request, workspace=None):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, workspace=None, username=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=s.MemberCreateSerializer)
    def create(self, request, workspace=None):
        data = s.MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(username=data.validated_data["username"], is_active=True).first()
        if user is None:
            raise exceptions.ValidationError({"username": [f"No user named {data.validated_data['username']!r}."]})
        role = services.resolve_role(self.workspace, data.validated_data["role"])
        membership = services.do_add_member(self.workspace, user=user, role=role, actor=request.user)
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MemberUpdateSerializer)
    def partial_update(self, request, workspace=None, username=None):
        data = s.MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.resolve_role(self.workspace, data.validated_data["role"])
        membership = services.do_change_member_role(self.get_object(), role=role, actor=request.user)
        return Response(self.get_serializer(membership).data)

    def destroy(self, request, workspace=None, username=None):
        services.do_remove_member(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleViewSet(WorkspaceScopedViewSet):
    serializer_class = s.RoleSerializer
    lookup_field = "slug"
    required_actions = {"create": "members.manage", "partial_update": "members.manage", "destroy": "members.manage"}
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Role.objects.none()
        return roles_for_workspace(self.workspace)

    def list(self, request, workspace=None):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, workspace=None, slug=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request, workspace=None):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.do_create_role(self.workspace, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(role).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RoleUpdateSerializer)
    def partial_update(self, request, workspace=None, slug=None):
        data = s.RoleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.do_update_role(self.get_object(), actor=request.user, **data.validated_data)
        return Response(self.get_serializer(role).data)

    def destroy(self, request, workspace=None, slug=None):
        services.do_delete_role(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivityViewSet(WorkspaceScopedViewSet, mixins.ListModelMixin):
    queryset = ActivityEvent.objects.select_related("actor")
    serializer_class = s.ActivitySerializer
    filterset_class = ActivityFilter
