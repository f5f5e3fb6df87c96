"""What the online and batch endpoint APIs share: an endpoint (or a deployment under one) is read,
listed, created by POST or by PUT to its name (Azure's `az ml ... create` is a PUT), changed by PUT
or PATCH, and deleted, all the same way; every body's keys are checked against the asset's schema
first (endpoints.schema, endpoints.batch.schema). A viewset names its schema (`spec`), its services and its
answer's shape; the deployments' one is scoped to the endpoint in the URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import models
from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.response import Response

from studio.api.base import WorkspaceScopedViewSet
from studio.api.body import read_spec
from studio.schema import SpecSerializer, refuse_unknown_keys

WRITE = "endpoints.write"


def read_body(request) -> dict:
    """A JSON or YAML body (or a multipart `body` part) as a dict (a YAML one keeps its lines)."""
    data = read_spec(request, field="body")[0]
    return data if isinstance(data, dict) else dict(data)


def _without_name(data: dict) -> dict:
    """The body of a change: the name is the URL's."""
    return {k: v for k, v in data.items() if k != "name"}


@dataclass(frozen=True)
class Writes:
    """The `do_*` services of one asset: create(parent, data, actor=), update(obj, data, actor=),
    delete(obj, actor=); the parent is the workspace of an endpoint, the endpoint of a deployment."""

    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., None]


class EndpointAssetViewSet(WorkspaceScopedViewSet):
    """List, create (POST, or PUT to a new name), retrieve, update (PUT or PATCH; a `name` in the
    body is the URL's), destroy. Subclasses give `spec`, `writes` and `present`."""

    lookup_field = "name"
    required_actions = {"create": WRITE, "update": WRITE, "partial_update": WRITE, "destroy": WRITE}
    spec: ClassVar[type[SpecSerializer]]
    writes: ClassVar[Writes]

    def body(self) -> tuple[dict, list[str]]:
        """The request's definition, its keys checked against `spec` (and its text and tags by
        their fields: tags through the one tag rule), and the notices of the Azure keys accepted
        and ignored. Those keys, and the API's own answer sent back, are left
        out: they change nothing (a deployment would otherwise count them as a new generation)."""
        data = read_body(self.request)
        notices = refuse_unknown_keys(self.spec, data, source=self.spec.noun)
        unused = self.spec.ignored_keys | self.spec.tolerated_keys | {"$schema"}
        data = self.spec(context={"source": self.spec.noun}).clean_values(data)
        return {k: v for k, v in data.items() if k not in unused}, notices

    def answer(self, obj: Any, notices: list[str], code: int = status.HTTP_200_OK) -> Response:
        shown = self.present(obj)
        if notices:
            shown["notices"] = notices
        return Response(shown, status=code)

    def present(self, obj: Any) -> dict:
        raise NotImplementedError

    def parent(self) -> Any:
        """What a new one is created in."""
        return self.workspace

    def create_one(self, data: dict) -> Any:
        return self.writes.create(self.parent(), data, actor=self.request.user)

    def update_one(self, obj: Any, data: dict) -> Any:
        return self.writes.update(obj, data, actor=self.request.user)

    def list(self, request, **kwargs):
        return Response([self.present(obj) for obj in self.get_queryset()])

    def create(self, request, **kwargs):
        data, notices = self.body()
        return self.answer(self.create_one(data), notices, status.HTTP_201_CREATED)

    def retrieve(self, request, **kwargs):
        return Response(self.present(self.get_object()))

    def update(self, request, name, **kwargs):
        data, notices = self.body()
        found = self.get_queryset().filter(name=name).first()
        if found is None:
            return self.answer(self.create_one({**data, "name": name}), notices, status.HTTP_201_CREATED)
        return self.answer(self.update_one(found, _without_name(data)), notices)

    def partial_update(self, request, name, **kwargs):
        data, notices = self.body()
        return self.answer(self.update_one(self.get_object(), _without_name(data)), notices)

    def destroy(self, request, **kwargs):
        self.writes.delete(self.get_object(), actor=self.request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeploymentViewSet(EndpointAssetViewSet):
    """The deployments of the endpoint named in the URL (`endpoint_model`): a missing endpoint is a
    404 for the list too, not an empty list."""

    endpoint_model: type[models.Model]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.queryset.filter(endpoint__workspace=self.workspace, endpoint__name=self.kwargs["endpoint"])

    def parent(self) -> Any:
        return get_object_or_404(self.endpoint_model, workspace=self.workspace, name=self.kwargs["endpoint"])

    def list(self, request, **kwargs):
        self.parent()
        return super().list(request, **kwargs)
