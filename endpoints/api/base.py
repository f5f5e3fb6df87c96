"""What the online and batch endpoint APIs share: an endpoint (or a deployment under one) is read,
listed, created by POST or by PUT to its name (Azure's `az ml ... create` is a PUT), changed by PUT
or PATCH, and deleted, all the same way. A viewset names its services and its answer's shape; the
deployments' one is scoped to the endpoint in the URL."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.response import Response

from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import read_spec

WRITE = "endpoints.write"


def read_body(request) -> dict:
    """A JSON or YAML body (or a multipart `body` part) as a plain dict."""
    return dict(read_spec(request, field="body")[0])


class EndpointAssetViewSet(WorkspaceScopedViewSet):
    """List, create (POST, or PUT to a new name), retrieve, update (PUT or PATCH; a `name` in the
    body is the URL's), destroy. Subclasses give `present`, `create_one`, `update_one`, `delete_one`."""

    lookup_field = "name"
    required_actions = {"create": WRITE, "update": WRITE, "partial_update": WRITE, "destroy": WRITE}

    def present(self, obj: Any) -> dict:
        raise NotImplementedError

    def create_one(self, data: dict) -> Any:
        raise NotImplementedError

    def update_one(self, obj: Any, data: dict) -> Any:
        raise NotImplementedError

    def delete_one(self, obj: Any) -> None:
        raise NotImplementedError

    def list(self, request, **kwargs):
        return Response([self.present(obj) for obj in self.get_queryset()])

    def create(self, request, **kwargs):
        return Response(self.present(self.create_one(read_body(request))), status=status.HTTP_201_CREATED)

    def retrieve(self, request, **kwargs):
        return Response(self.present(self.get_object()))

    def update(self, request, name, **kwargs):
        data = read_body(request)
        found = self.get_queryset().filter(name=name).first()
        if found is None:
            return Response(self.present(self.create_one(data | {"name": name})), status=status.HTTP_201_CREATED)
        data.pop("name", None)
        return Response(self.present(self.update_one(found, data)))

    def partial_update(self, request, name, **kwargs):
        data = read_body(request)
        data.pop("name", None)
        return Response(self.present(self.update_one(self.get_object(), data)))

    def destroy(self, request, **kwargs):
        self.delete_one(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeploymentViewSet(EndpointAssetViewSet):
    """The deployments of the endpoint named in the URL (`endpoint_model`): a missing endpoint is a
    404 for the list too, not an empty list."""

    endpoint_model: type[models.Model]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.queryset.filter(endpoint__workspace=self.workspace, endpoint__name=self.kwargs["endpoint"])

    def endpoint(self) -> Any:
        return get_object_or_404(self.endpoint_model, workspace=self.workspace, name=self.kwargs["endpoint"])

    def list(self, request, **kwargs):
        self.endpoint()
        return super().list(request, **kwargs)
