"""State changes of online endpoints and deployments, one function each: atomic, an activity
event each, the reconcile loop woken on commit. Permission checks are the caller's job;
bad input raises ValidationError (400), a name clash studio.errors.Conflict (409)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from compute import services as compute_services
from compute.models import ComputeTarget, ComputeType
from endpoints import keys, mlflow_scoring, spec
from endpoints.models import OnlineDeployment, OnlineEndpoint
from endpoints.tasks import reconcile_instances
from environments.resolve import resolve_environment
from jobs import integrations
from jobs.code import open_file
from jobs.models import CodeSnapshot
from registry import services as registry
from studio import activity, crypto
from studio.errors import Conflict


def _wake_reconcile() -> None:
    transaction.on_commit(lambda: reconcile_instances.delay())


@transaction.atomic
def do_create_endpoint(workspace, data: dict[str, Any], *, actor) -> OnlineEndpoint:
    name = spec.check_name(data.get("name"))
    if OnlineEndpoint.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(f"An online endpoint named {name} already exists in {workspace.name}.")
    traffic = spec.check_traffic(data.get("traffic") or {}, set())
    if not isinstance(data.get("tags") or {}, dict):
        raise ValidationError({"tags": ["tags maps names to values."]})
    endpoint = OnlineEndpoint.objects.create(
        workspace=workspace,
        name=name,
        description=str(data.get("description") or ""),
        tags=data.get("tags") if isinstance(data.get("tags"), dict) else {},
        auth_mode=spec.check_auth_mode(data.get("auth_mode", "key")),
        traffic=traffic,
        mirror_traffic=spec.check_mirror_traffic(data.get("mirror_traffic") or {}, set(), traffic),
        keys_encrypted=keys.new_keys(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    activity.record(workspace, actor, "endpoint.created", name)
    return endpoint


@transaction.atomic
def do_update_endpoint(endpoint: OnlineEndpoint, data: dict[str, Any], *, actor) -> OnlineEndpoint:
    endpoint = OnlineEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    fields = []
    names = set(endpoint.deployments.values_list("name", flat=True))
    if "traffic" in data:
        endpoint.traffic = spec.check_traffic(data["traffic"], names)
        fields.append("traffic")
    if "mirror_traffic" in data or "traffic" in data:
        mirror = data.get("mirror_traffic", endpoint.mirror_traffic) or {}
        endpoint.mirror_traffic = spec.check_mirror_traffic(mirror, names, endpoint.traffic)
        if "mirror_traffic" in data:
            fields.append("mirror_traffic")
    if "auth_mode" in data:
        endpoint.auth_mode = spec.check_auth_mode(data["auth_mode"])
        fields.append("auth_mode")
    if "description" in data:
        endpoint.description = str(data["description"] or "")
        fields.append("description")
    if "tags" in data:
        if not isinstance(data["tags"], dict):
            raise ValidationError({"tags": ["tags maps names to values."]})
        endpoint.tags = data["tags"]
        fields.append("tags")
    endpoint.save()
    activity.record(endpoint.workspace, actor, "endpoint.updated", endpoint.name, fields=fields)
    return endpoint


@transaction.atomic
def do_regenerate_key(endpoint: OnlineEndpoint, key_type: str, *, actor) -> None:
    if key_type not in keys.KEY_TYPES:
        raise ValidationError({"key_type": ["key_type is primary or secondary."]})
    endpoint = OnlineEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    current = keys.read(endpoint)
    current[key_type] = keys.new_key()
    endpoint.keys_encrypted = crypto.encrypt_json(current)
    endpoint.save(update_fields=["keys_encrypted"])
    activity.record(endpoint.workspace, actor, "endpoint.keys_regenerated", endpoint.name, key_type=key_type)


@transaction.atomic
def do_delete_endpoint(endpoint: OnlineEndpoint, *, actor) -> None:
    name, workspace = endpoint.name, endpoint.workspace
    endpoint.delete()
    activity.record(workspace, actor, "endpoint.deleted", name)
    _wake_reconcile()


def _resolve_code(workspace, code: Any, script: str) -> CodeSnapshot:
    snapshot = None
    if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
        snapshot = CodeSnapshot.objects.filter(workspace=workspace, pk=int(code)).first()
    elif isinstance(code, str) and re.fullmatch(r"[0-9a-f]{64}", code):  # the id POST /codes/ answers
        snapshot = CodeSnapshot.objects.filter(workspace=workspace, hash=code).first()
    if snapshot is None:
        raise ValidationError(
            {"code_configuration": [f"No code snapshot {code!r} in {workspace.name}: upload it to /codes/ first."]}
        )
    if open_file(snapshot, script) is None:
        raise ValidationError(
            {"code_configuration": [f"The scoring script {script} is not in the code snapshot {snapshot.pk}."]}
        )
    return snapshot


def _check_assignee(target: ComputeTarget | None, actor) -> None:
    """A deployment on a compute instance runs what only its assignee may change: another member
    who changed its model, code, environment or variables would run their code on that instance."""
    if target is None or actor is None or not actor.is_authenticated:
        return
    compute_services.check_assignee(
        target, actor, work="deployments", hint="Others may scale it, or move it to another compute target (compute)."
    )


def _resolve_compute(workspace, value: Any, *, actor) -> ComputeTarget | None:
    """The workspace's compute target named `value` (`azureml:` prefix allowed), checked as a job's
    would be: an instance runs only its assignee's deployments. None: the shared local target."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationError({"compute": ["compute is the name of a compute target, e.g. azureml:cpu-cluster."]})
    target = integrations.find_compute(workspace, value.strip().removeprefix("azureml:"))
    if target.type == ComputeType.ATTACHED:
        # An instance listens on its node's address, and a remote engine's containers are elsewhere.
        raise ValidationError(
            {
                "compute": [
                    f"{target.name} is an attached Docker engine on another host; online deployment instances run "
                    "on the nodes of a cluster, instance or docker target (or leave compute empty for local)."
                ]
            }
        )
    if actor is not None and actor.is_authenticated:
        integrations.check_can_accept(target, actor)
    return target


def _deployment_fields(workspace, data: dict[str, Any], *, actor=None) -> dict[str, Any]:
    model_ref = data.get("model")
    if not isinstance(model_ref, str) or not model_ref:
        raise ValidationError({"model": ["model is a registered model reference, e.g. azureml:my-model:1."]})
    version = registry.resolve(workspace, model_ref, field="model")
    env_ref = data.get("environment")
    if data.get("code_configuration") in (None, {}) and mlflow_scoring.is_mlflow(version):
        # No script: Studio's pyfunc scoring script, in the model's own environment unless given.
        code, script = None, ""
        if env_ref in (None, ""):
            environment_version = mlflow_scoring.environment_for(workspace, version, actor=actor)
            env_ref = f"azureml:{environment_version.environment.name}:{environment_version.version}"
    else:
        if data.get("code_configuration") in (None, {}):
            raise ValidationError(
                {
                    "code_configuration": [
                        f"{version.reference} is a {version.type}: give code_configuration (code and scoring_script); "
                        "only an mlflow_model deploys with no script."
                    ]
                }
            )
        code_id, script = spec.code_configuration(data.get("code_configuration"))
        code = _resolve_code(workspace, code_id, script)
    if not isinstance(env_ref, str) or not env_ref:
        raise ValidationError(
            {
                "environment": [
                    "environment is a reference to an environment with azureml-inference-server-http, "
                    "e.g. azureml:Studio-sklearn-1.9-inference@latest."
                ]
            }
        )
    return {
        "model": model_ref,
        "model_version": version,
        "code": code,
        "scoring_script": script,
        "environment": env_ref,
        "environment_version": resolve_environment(workspace, env_ref),
        "instance_type": str(data.get("instance_type") or ""),
        "instance_count": spec.check_instance_count(data.get("instance_count", 1)),
        "compute": _resolve_compute(workspace, data.get("compute"), actor=actor),
        "environment_variables": spec.check_environment_variables(data.get("environment_variables")),
    }


@transaction.atomic
def do_create_deployment(endpoint: OnlineEndpoint, data: dict[str, Any], *, actor) -> OnlineDeployment:
    name = spec.check_name(data.get("name"))
    if data.get("endpoint_name") not in (None, endpoint.name):
        raise ValidationError(
            {"endpoint_name": [f"This deployment is for {data['endpoint_name']}, not {endpoint.name}."]}
        )
    if endpoint.deployments.filter(name=name).exists():
        raise Conflict(f"{endpoint.name} already has a deployment named {name}.")
    deployment = OnlineDeployment.objects.create(
        endpoint=endpoint, name=name, **_deployment_fields(endpoint.workspace, data, actor=actor)
    )
    activity.record(endpoint.workspace, actor, "deployment.created", str(deployment), model=deployment.model)
    _wake_reconcile()
    return deployment


@transaction.atomic
def do_update_deployment(deployment: OnlineDeployment, data: dict[str, Any], *, actor) -> OnlineDeployment:
    """Changed fields replace the old ones; the instances are replaced at the next reconcile."""
    workspace = deployment.endpoint.workspace
    merged = {
        "model": deployment.model,
        "code_configuration": (
            {"code": deployment.code_id, "scoring_script": deployment.scoring_script} if deployment.code_id else None
        ),
        "environment": deployment.environment,
        "instance_type": deployment.instance_type,
        "instance_count": deployment.instance_count,
        "compute": deployment.compute.name if deployment.compute else None,
        "environment_variables": deployment.environment_variables,
    } | {k: v for k, v in data.items() if k not in ("name", "endpoint_name")}
    # Whom an instance target accepts is checked when the target is chosen, not at every scale.
    fields = _deployment_fields(workspace, merged, actor=actor if "compute" in data else None)
    changed = sorted(k for k in data if k in merged)
    if set(changed) - {"instance_count", "compute"}:
        _check_assignee(deployment.compute, actor)
    for key, value in fields.items():
        setattr(deployment, key, value)
    if set(changed) - {"instance_count"}:
        # What the instances run, or where, changed: a new generation is started; the old one
        # serves until the new one is ready (endpoints.placement).
        deployment.generation += 1
    deployment.save()
    activity.record(workspace, actor, "deployment.updated", str(deployment), fields=changed)
    _wake_reconcile()
    return deployment


@transaction.atomic
def do_delete_deployment(deployment: OnlineDeployment, *, actor) -> None:
    endpoint = OnlineEndpoint.objects.select_for_update().get(pk=deployment.endpoint_id)
    if endpoint.traffic.get(deployment.name):
        raise ValidationError(
            {
                "traffic": [
                    f"{deployment.name} still takes {endpoint.traffic[deployment.name]}% of the traffic: move it first."
                ]
            }
        )
    endpoint.traffic.pop(deployment.name, None)
    endpoint.mirror_traffic.pop(deployment.name, None)  # a deleted shadow is no longer mirrored
    endpoint.save(update_fields=["traffic", "mirror_traffic"])
    label = str(deployment)
    deployment.delete()
    activity.record(endpoint.workspace, actor, "deployment.deleted", label)
    _wake_reconcile()
