"""The online endpoints API's viewsets (the routes are in urls.py beside this module)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from endpoints import instance_logs, keys, metrics, mirror, services
from endpoints.api.base import WRITE, DeploymentViewSet, EndpointAssetViewSet, Writes, read_body
from endpoints.models import OnlineDeployment, OnlineEndpoint
from endpoints.schema import OnlineDeploymentSpec, OnlineEndpointSpec
from studio import logs

LOG_CHUNK = 256 * 1024


def scoring_uri(request, endpoint: OnlineEndpoint) -> str:
    return request.build_absolute_uri(f"/endpoints/{endpoint.workspace.name}/{endpoint.name}/score")


def endpoint_data(request, endpoint: OnlineEndpoint) -> dict:
    return {
        "name": endpoint.name,
        "description": endpoint.description,
        "tags": endpoint.tags,
        "auth_mode": endpoint.auth_mode,
        "traffic": endpoint.traffic,
        "mirror_traffic": endpoint.mirror_traffic,
        "scoring_uri": scoring_uri(request, endpoint),
        "deployments": [d.name for d in endpoint.deployments.all()],
        "created_at": endpoint.created_at,
    }


def deployment_data(deployment: OnlineDeployment) -> dict:
    return {
        "name": deployment.name,
        "endpoint_name": deployment.endpoint.name,
        "model": deployment.model,
        "code_configuration": (
            {"code": deployment.code_id, "scoring_script": deployment.scoring_script} if deployment.code_id else None
        ),
        "environment": deployment.environment,
        "instance_type": deployment.instance_type,
        "instance_count": deployment.instance_count,
        "compute": f"azureml:{deployment.compute.name}" if deployment.compute else None,
        "environment_variables": deployment.environment_variables,
        "generation": deployment.generation,
        "instances": [
            {
                "status": i.status,
                "node": i.node.worker_name if i.node else None,
                "generation": i.generation,
                "restarts": i.restarts,
                "detail": i.detail[-2000:],
            }
            for i in deployment.instances.select_related("node")
        ],
    }


@extend_schema_view(
    list=extend_schema(operation_id="online_endpoints_list", request=None, responses=OpenApiTypes.OBJECT),
    create=extend_schema(
        operation_id="online_endpoints_create", request=OnlineEndpointSpec, responses=OpenApiTypes.OBJECT
    ),
    retrieve=extend_schema(operation_id="online_endpoints_retrieve", request=None, responses=OpenApiTypes.OBJECT),
    update=extend_schema(
        operation_id="online_endpoints_update", request=OnlineEndpointSpec, responses=OpenApiTypes.OBJECT
    ),
    partial_update=extend_schema(
        operation_id="online_endpoints_partial_update", request=OnlineEndpointSpec, responses=OpenApiTypes.OBJECT
    ),
    destroy=extend_schema(operation_id="online_endpoints_destroy", request=None, responses=OpenApiTypes.OBJECT),
    keys=extend_schema(operation_id="online_endpoints_keys", request=None, responses=OpenApiTypes.OBJECT),
    regenerate_keys=extend_schema(
        operation_id="online_endpoints_regenerate_keys", request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT
    ),
    mirror_comparison=extend_schema(
        operation_id="online_endpoints_mirror_comparison", request=None, responses=OpenApiTypes.OBJECT
    ),
)
class OnlineEndpointViewSet(EndpointAssetViewSet):
    queryset = OnlineEndpoint.objects.select_related("workspace").prefetch_related("deployments")
    spec = OnlineEndpointSpec
    required_actions = {
        **EndpointAssetViewSet.required_actions,
        "keys": WRITE,  # reading keys lets one call the endpoint: not for readers
        "regenerate_keys": WRITE,
        "mirror_comparison": WRITE,  # holds request and answer bodies: like the keys, not for readers
    }

    writes = Writes(services.do_create_endpoint, services.do_update_endpoint, services.do_delete_endpoint)

    def present(self, obj: OnlineEndpoint) -> dict:
        return endpoint_data(self.request, obj)

    @action(detail=True, methods=["get"])
    def keys(self, request, workspace, name):
        found = keys.read(self.get_object())
        return Response({"primary_key": found["primary"], "secondary_key": found["secondary"]})

    @action(detail=True, methods=["post"], url_path="regenerate-keys")
    def regenerate_keys(self, request, workspace, name):
        services.do_regenerate_key(
            self.get_object(), str(read_body(request).get("key_type", "primary")), actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"], url_path="mirror-comparison")
    def mirror_comparison(self, request, workspace, name):
        return Response(mirror.comparison(self.get_object()))


def _minutes(request) -> int:
    """`?minutes=` of a metrics request: 1 to 7 days' worth, 60 when absent."""
    raw = request.query_params.get("minutes", "60")
    if not raw.isdigit() or not 1 <= int(raw) <= 7 * 24 * 60:
        raise ValidationError({"minutes": ["minutes is a whole number from 1 to 10080."]})
    return int(raw)


@extend_schema_view(
    list=extend_schema(operation_id="online_deployments_list", request=None, responses=OpenApiTypes.OBJECT),
    create=extend_schema(
        operation_id="online_deployments_create", request=OnlineDeploymentSpec, responses=OpenApiTypes.OBJECT
    ),
    retrieve=extend_schema(operation_id="online_deployments_retrieve", request=None, responses=OpenApiTypes.OBJECT),
    update=extend_schema(
        operation_id="online_deployments_update", request=OnlineDeploymentSpec, responses=OpenApiTypes.OBJECT
    ),
    partial_update=extend_schema(
        operation_id="online_deployments_partial_update", request=OnlineDeploymentSpec, responses=OpenApiTypes.OBJECT
    ),
    destroy=extend_schema(operation_id="online_deployments_destroy", request=None, responses=OpenApiTypes.OBJECT),
    logs=extend_schema(operation_id="online_deployments_logs", request=None, responses=OpenApiTypes.OBJECT),
    metrics=extend_schema(operation_id="online_deployments_metrics", request=None, responses=OpenApiTypes.OBJECT),
)
class OnlineDeploymentViewSet(DeploymentViewSet):
    queryset = OnlineDeployment.objects.select_related("endpoint__workspace").prefetch_related("instances")
    endpoint_model = OnlineEndpoint
    spec = OnlineDeploymentSpec

    writes = Writes(services.do_create_deployment, services.do_update_deployment, services.do_delete_deployment)

    def present(self, obj: OnlineDeployment) -> dict:
        return deployment_data(obj)

    @action(detail=True, methods=["get"])
    def logs(self, request, workspace, endpoint, name):
        deployment = self.get_object()
        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            offset = 0
        instance = deployment.instances.order_by("-pk").first()
        text, end = "", offset
        if instance is not None:  # its log stream, shipped by its node (`endpoints.instance_logs`)
            part = logs.read(instance_logs.stream(instance.pk), offset, LOG_CHUNK)
            text, end = part.text, part.next_offset
        return Response({"content": text, "offset": end})

    @action(detail=True, methods=["get"], url_path="metrics")
    def metrics(self, request, workspace, endpoint, name):
        return Response(metrics.series(self.get_object(), _minutes(request)))
