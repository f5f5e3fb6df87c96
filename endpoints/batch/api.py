"""REST API of batch endpoints, mounted under /api/v1/:
workspaces/{ws}/batch-endpoints/                              GET, POST (batchEndpoint fields)
workspaces/{ws}/batch-endpoints/{name}/                       GET, PUT (create/update), PATCH, DELETE
workspaces/{ws}/batch-endpoints/{name}/invoke/                POST {"input": ..., "deployment_name"?} -> the job
workspaces/{ws}/batch-endpoints/{name}/jobs/                  GET the endpoint's batch scoring jobs, with progress
workspaces/{ws}/batch-endpoints/{name}/deployments/           GET, POST (modelBatchDeployment fields)
workspaces/{ws}/batch-endpoints/{name}/deployments/{d}/       GET, PUT, PATCH, DELETE
Bodies use Azure ML CLI v2 YAML's field names; a YAML body is accepted like JSON.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from endpoints.api.base import DeploymentViewSet, EndpointAssetViewSet, Writes, read_body
from endpoints.batch import scoring, services
from endpoints.batch.models import BatchDeployment, BatchEndpoint, BatchRun
from endpoints.batch.schema import BatchDeploymentSpec, BatchEndpointSpec

WS = r"workspaces/(?P<workspace>[^/.]+)"
SUBMIT = "jobs.submit"


def endpoint_data(endpoint: BatchEndpoint) -> dict:
    return {
        "name": endpoint.name,
        "description": endpoint.description,
        "tags": endpoint.tags,
        "auth_mode": "aad_token",
        "defaults": {"deployment_name": endpoint.default_deployment or None},
        "deployments": [d.name for d in endpoint.deployments.all()],
        "created_at": endpoint.created_at,
    }


def deployment_data(deployment: BatchDeployment) -> dict:
    return {
        "name": deployment.name,
        "endpoint_name": deployment.endpoint.name,
        "type": "model",
        "description": deployment.description,
        "model": deployment.model,
        "code_configuration": (
            {"code": deployment.code.hash, "scoring_script": deployment.scoring_script} if deployment.code else None
        ),
        "environment": deployment.environment,
        "compute": deployment.compute,
        "resources": {"instance_count": deployment.instance_count},
        "settings": {
            "max_concurrency_per_instance": deployment.max_concurrency_per_instance,
            "mini_batch_size": deployment.mini_batch_size,
            "output_action": deployment.output_action,
            "output_file_name": deployment.output_file_name,
            "retry_settings": {"max_retries": deployment.max_retries, "timeout": deployment.timeout},
            "error_threshold": deployment.error_threshold,
        },
        "environment_variables": deployment.environment_variables,
    }


def run_data(run: BatchRun) -> dict:
    job = run.job
    return {
        "name": job.name,
        "type": job.type,
        "status": job.status,
        "endpoint_name": run.endpoint_name,
        "deployment_name": run.deployment_name,
        "input": job.inputs.get("input_data", {}).get("path"),
        "progress": scoring.progress(run),
        "total_files": run.total_files,
        "failed_files": run.failed_files,
        "failure_reason": job.failure_reason,
        "created_at": job.created_at,
        "ended_at": job.ended_at,
    }


def _schema(prefix: str, names: list[str], body: type) -> dict:
    def request(name: str):
        if name in ("list", "retrieve", "destroy", "jobs"):
            return None
        return body if name in ("create", "update", "partial_update") else OpenApiTypes.OBJECT

    return {
        name: extend_schema(operation_id=f"{prefix}_{name}", request=request(name), responses=OpenApiTypes.OBJECT)
        for name in names
    }


@extend_schema_view(
    **_schema(
        "batch_endpoints",
        ["list", "create", "retrieve", "update", "partial_update", "destroy", "invoke", "jobs"],
        BatchEndpointSpec,
    )
)
class BatchEndpointViewSet(EndpointAssetViewSet):
    queryset = BatchEndpoint.objects.select_related("workspace").prefetch_related("deployments")
    spec = BatchEndpointSpec
    required_actions = {**EndpointAssetViewSet.required_actions, "invoke": SUBMIT}

    writes = Writes(
        services.do_create_batch_endpoint, services.do_update_batch_endpoint, services.do_delete_batch_endpoint
    )

    def present(self, obj: BatchEndpoint) -> dict:
        return endpoint_data(obj)

    @action(detail=True, methods=["post"])
    def invoke(self, request, workspace, name):
        job = services.do_invoke_batch_endpoint(self.get_object(), read_body(request), actor=request.user)
        return Response(run_data(job.batch_run), status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def jobs(self, request, workspace, name):
        endpoint = self.get_object()
        runs = BatchRun.objects.filter(endpoint=endpoint).select_related("job").order_by("-job__created_at")[:200]
        return Response([run_data(r) for r in runs])


@extend_schema_view(
    **_schema(
        "batch_deployments",
        ["list", "create", "retrieve", "update", "partial_update", "destroy"],
        BatchDeploymentSpec,
    )
)
class BatchDeploymentViewSet(DeploymentViewSet):
    queryset = BatchDeployment.objects.select_related("endpoint__workspace", "code")
    endpoint_model = BatchEndpoint
    spec = BatchDeploymentSpec

    writes = Writes(
        services.do_create_batch_deployment, services.do_update_batch_deployment, services.do_delete_batch_deployment
    )

    def present(self, obj: BatchDeployment) -> dict:
        return deployment_data(obj)


router = SimpleRouter()
router.register(rf"{WS}/batch-endpoints", BatchEndpointViewSet, basename="batch-endpoint")
router.register(
    rf"{WS}/batch-endpoints/(?P<endpoint>[^/.]+)/deployments", BatchDeploymentViewSet, basename="batch-deployment"
)
urlpatterns = router.urls
