"""State changes of batch endpoints and deployments, and invoking an endpoint (which makes a
batch scoring job), one function each: atomic, an activity event each. Permission checks are the
caller's job; bad input raises ValidationError (400), a name clash studio.errors.Conflict (409)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from datastores.services.data import get_datastore, resolve_reference
from datastores.storage import StorageError, store_for
from endpoints import mlflow_scoring
from endpoints import spec as online_spec
from endpoints.batch import scoring
from endpoints.batch import spec as batch_spec
from endpoints.batch.models import BatchDeployment, BatchEndpoint, BatchRun, MiniBatch
from environments.resolve import resolve_environment
from jobs import integrations
from jobs.code import open_file, snapshot_from_files
from jobs.models import CodeSnapshot, Job, JobEvent, JobStatus, JobType
from jobs.services.submit import CODE_ID, experiment_for, free_job_name
from registry import services as registry
from studio import activity
from studio.errors import Conflict

SERVING = Path(mlflow_scoring.__file__).resolve().parent / "serving"
DRIVER = "_studio_batch_driver.py"
MLFLOW_DRIVER = "_studio_mlflow_batch.py"
MAX_FILES = 100_000


@transaction.atomic
def do_create_batch_endpoint(workspace, data: dict[str, Any], *, actor) -> BatchEndpoint:
    name = online_spec.check_name(data.get("name"))
    if BatchEndpoint.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(f"A batch endpoint named {name} already exists in {workspace.name}.")
    if not isinstance(data.get("tags") or {}, dict):
        raise ValidationError({"tags": ["tags maps names to values."]})
    if not isinstance(data.get("defaults") or {}, dict):
        raise ValidationError({"defaults": ["defaults maps deployment_name to a deployment of this endpoint."]})
    endpoint = BatchEndpoint.objects.create(
        workspace=workspace,
        name=name,
        description=str(data.get("description") or ""),
        tags=data.get("tags") if isinstance(data.get("tags"), dict) else {},
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if (data.get("defaults") or {}).get("deployment_name"):
        raise ValidationError({"defaults": ["The endpoint has no deployments yet: set defaults after creating one."]})
    activity.record(workspace, actor, "batch_endpoint.created", name)
    return endpoint


@transaction.atomic
def do_update_batch_endpoint(endpoint: BatchEndpoint, data: dict[str, Any], *, actor) -> BatchEndpoint:
    endpoint = BatchEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    fields = []
    if "defaults" in data:
        defaults = data["defaults"] or {}
        if not isinstance(defaults, dict):
            raise ValidationError({"defaults": ["defaults maps deployment_name to a deployment of this endpoint."]})
        chosen = str(defaults.get("deployment_name") or "")
        if chosen and not endpoint.deployments.filter(name=chosen).exists():
            have = ", ".join(endpoint.deployments.values_list("name", flat=True)) or "none yet"
            raise ValidationError({"defaults": [f"{endpoint.name} has no deployment {chosen!r} ({have})."]})
        endpoint.default_deployment = chosen
        fields.append("defaults")
    if "description" in data:
        endpoint.description = str(data["description"] or "")
        fields.append("description")
    if "tags" in data:
        if not isinstance(data["tags"], dict):
            raise ValidationError({"tags": ["tags maps names to values."]})
        endpoint.tags = data["tags"]
        fields.append("tags")
    endpoint.save()
    activity.record(endpoint.workspace, actor, "batch_endpoint.updated", endpoint.name, fields=", ".join(fields))
    return endpoint


@transaction.atomic
def do_delete_batch_endpoint(endpoint: BatchEndpoint, *, actor) -> None:
    name, workspace = endpoint.name, endpoint.workspace
    endpoint.delete()  # its jobs stay (they keep the endpoint's name)
    activity.record(workspace, actor, "batch_endpoint.deleted", name)


def _driver_code(workspace, code_id: Any, script: str) -> CodeSnapshot:
    snapshot = None
    if isinstance(code_id, int) or (isinstance(code_id, str) and code_id.isdigit()):
        snapshot = CodeSnapshot.objects.filter(workspace=workspace, pk=int(code_id)).first()
    elif isinstance(code_id, str) and (match := CODE_ID.match(code_id)):  # the id POST /codes/ answers
        snapshot = CodeSnapshot.objects.filter(workspace=workspace, hash=match[1]).first()
    if snapshot is None:
        raise ValidationError(
            {"code_configuration": [f"No code snapshot {code_id!r} in {workspace.name}: upload it to /codes/ first."]}
        )
    found = open_file(snapshot, script)
    if found is None:
        raise ValidationError(
            {"code_configuration": [f"The scoring script {script} is not in the code snapshot {snapshot.pk}."]}
        )
    batch_spec.check_driver(found.read_text(errors="replace"), script)
    return snapshot


def _deployment_fields(workspace, data: dict[str, Any], *, actor, current: BatchDeployment | None = None) -> dict:
    model_ref = data.get("model")
    if not isinstance(model_ref, str) or not model_ref:
        raise ValidationError({"model": ["model is a registered model reference, e.g. azureml:my-model:1."]})
    version = registry.resolve(workspace, model_ref, field="model")
    env_ref = data.get("environment")
    configuration = data.get("code_configuration")
    if configuration in (None, {}):
        if not mlflow_scoring.is_mlflow(version):
            raise ValidationError(
                {
                    "code_configuration": [
                        f"{version.reference} is a {version.type}: give code_configuration (code and a scoring_script "
                        "with init() and run(mini_batch)); only an mlflow_model scores with no driver."
                    ]
                }
            )
        code, script = None, ""
        if env_ref in (None, ""):
            made = mlflow_scoring.environment_for(workspace, version, actor=actor)  # shared with online
            env_ref = f"azureml:{made.environment.name}:{made.version}"
    else:
        code_id, script = online_spec.code_configuration(configuration)
        code = _driver_code(workspace, code_id, script)
    if not isinstance(env_ref, str) or not env_ref:
        raise ValidationError({"environment": ["environment is a reference, e.g. azureml:sklearn-batch:1."]})
    compute = str(data.get("compute") or "").removeprefix("azureml:")
    if not compute:
        raise ValidationError({"compute": ["compute names the compute target that scores the mini-batches."]})
    target = integrations.find_compute(workspace, compute)
    settings = batch_spec.parse_settings(data, current)
    return {
        "description": str(data.get("description") or ""),
        "model": model_ref,
        "model_version": version,
        "code": code,
        "scoring_script": script,
        "environment": env_ref,
        "environment_version": resolve_environment(workspace, env_ref),
        "compute": target.name,
        "environment_variables": online_spec.check_environment_variables(data.get("environment_variables")),
        **settings.as_dict(),
    }


def _settings_of(deployment: BatchDeployment) -> batch_spec.BatchSettings:
    return batch_spec.BatchSettings(
        **{k: getattr(deployment, k) for k in batch_spec.BatchSettings.__dataclass_fields__}
    )


@transaction.atomic
def do_create_batch_deployment(endpoint: BatchEndpoint, data: dict[str, Any], *, actor) -> BatchDeployment:
    name = online_spec.check_name(data.get("name"))
    if data.get("endpoint_name") not in (None, endpoint.name):
        raise ValidationError(
            {"endpoint_name": [f"This deployment is for {data['endpoint_name']}, not {endpoint.name}."]}
        )
    if data.get("type") not in (None, "model"):
        raise ValidationError({"type": ["Studio's batch deployments are model deployments (type: model)."]})
    if endpoint.deployments.filter(name=name).exists():
        raise Conflict(f"{endpoint.name} already has a deployment named {name}.")
    deployment = BatchDeployment.objects.create(
        endpoint=endpoint, name=name, **_deployment_fields(endpoint.workspace, data, actor=actor)
    )
    if not endpoint.default_deployment:  # the first deployment takes invocations that name none
        BatchEndpoint.objects.filter(pk=endpoint.pk).update(default_deployment=name)
        endpoint.default_deployment = name
    activity.record(endpoint.workspace, actor, "batch_deployment.created", str(deployment), model=deployment.model)
    return deployment


@transaction.atomic
def do_update_batch_deployment(deployment: BatchDeployment, data: dict[str, Any], *, actor) -> BatchDeployment:
    """Changed fields replace the old ones; jobs already invoked keep what they started with."""
    workspace = deployment.endpoint.workspace
    merged = {
        "model": deployment.model,
        "code_configuration": (
            {"code": deployment.code.hash, "scoring_script": deployment.scoring_script} if deployment.code else None
        ),
        "environment": deployment.environment,
        "compute": deployment.compute,
        "description": deployment.description,
        "environment_variables": deployment.environment_variables,
    } | {k: v for k, v in data.items() if k not in ("name", "endpoint_name", "type")}
    fields = _deployment_fields(workspace, merged, actor=actor, current=_settings_of(deployment))
    for key, value in fields.items():
        setattr(deployment, key, value)
    deployment.save()
    changed = ", ".join(sorted(k for k in data if k not in ("name", "endpoint_name", "type")))
    activity.record(workspace, actor, "batch_deployment.updated", str(deployment), fields=changed)
    return deployment


@transaction.atomic
def do_delete_batch_deployment(deployment: BatchDeployment, *, actor) -> None:
    endpoint = BatchEndpoint.objects.select_for_update().get(pk=deployment.endpoint_id)
    if endpoint.default_deployment == deployment.name and endpoint.deployments.count() > 1:
        raise ValidationError(
            {"defaults": [f"{deployment.name} is the default deployment of {endpoint.name}: choose another first."]}
        )
    label = str(deployment)
    deployment.delete()
    if endpoint.default_deployment == deployment.name:
        BatchEndpoint.objects.filter(pk=endpoint.pk).update(default_deployment="")
    activity.record(endpoint.workspace, actor, "batch_deployment.deleted", label)


# --- invoking ------------------------------------------------------------------------------------


def _input_item(workspace, data: dict[str, Any]) -> dict[str, Any]:
    """The one data input of an invocation: `input` (a reference or a {type, path} mapping) or
    `inputs` with one entry, as `az ml batch-endpoint invoke` sends them."""
    raw = data.get("input")
    if raw is None and isinstance(data.get("inputs"), dict) and len(data["inputs"]) == 1:
        raw = next(iter(data["inputs"].values()))
    if raw is None or raw == "":
        raise ValidationError(
            {
                "input": [
                    "Give the data to score: a data asset (azureml:name:version) or a folder (azureml://datastores/<name>/paths/<path>)."
                ]
            }
        )
    if isinstance(raw, str):
        kind = "uri_folder"
        if raw.startswith("azureml:") and not raw.startswith("azureml://"):
            try:
                kind = resolve_reference(workspace, raw, field="input").type
            except ValidationError as exc:
                raise ValidationError({"input": exc.messages}) from None
        raw = {"type": kind, "path": raw}
    if not isinstance(raw, dict):
        raise ValidationError({"input": ["input is a data reference or a mapping with type and path."]})
    kind = raw.get("type") or "uri_folder"
    if kind not in ("uri_folder", "uri_file"):
        raise ValidationError({"input": [f"A batch endpoint scores a uri_folder or a uri_file, not {kind!r}."]})
    try:
        return integrations.resolve_input(
            workspace, "input_data", {"type": kind, "path": raw.get("path"), "mode": "download"}
        )
    except ValidationError as exc:
        raise ValidationError({"input": [m for msgs in exc.message_dict.values() for m in msgs]}) from None


def _list_files(workspace, item: dict[str, Any]) -> list[str]:
    """The input's files, relative to the folder (a uri_file: its own name), sorted."""
    resolved = item["resolved"]
    if item["type"] == "uri_file":
        return [Path(resolved.get("path") or resolved["uri"]).name or "data"]
    store = store_for(get_datastore(workspace, resolved["datastore"], field="input"))
    base = resolved["path"].rstrip("/")
    try:
        found = [e.path[len(base) :].lstrip("/") for e in store.walk_files(base, limit=MAX_FILES + 1)]
    except StorageError as exc:
        raise ValidationError({"input": [f"The input could not be listed: {exc}"]}) from None
    if len(found) > MAX_FILES:
        raise ValidationError({"input": [f"The input holds more than {MAX_FILES} files; score it in parts."]})
    return sorted(f for f in found if f)


def _child_code(workspace, deployment: BatchDeployment, *, actor) -> tuple[CodeSnapshot, str]:
    """The code every mini-batch runs: the deployment's driver folder plus Studio's runner (and,
    for an MLflow model with no driver, Studio's pyfunc driver). Content-addressed: reused."""
    files: list[tuple[str, io.BytesIO]] = []
    if deployment.code is not None:
        root = deployment.code.path
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files.append((path.relative_to(root).as_posix(), io.BytesIO(path.read_bytes())))
        entry = deployment.scoring_script
    else:
        files.append((MLFLOW_DRIVER, io.BytesIO((SERVING / "mlflow_batch.py").read_bytes())))
        entry = MLFLOW_DRIVER
    files.append((DRIVER, io.BytesIO((SERVING / "batch_driver.py").read_bytes())))
    return snapshot_from_files(workspace, files, actor=actor, strip_top=False), entry


@transaction.atomic
def do_invoke_batch_endpoint(endpoint: BatchEndpoint, data: dict[str, Any], *, actor) -> Job:
    """Make a batch scoring job: list the input's files, cut them into mini-batches, store the
    parent Running and start the first mini-batches (up to instance_count x
    max_concurrency_per_instance) in the same transaction."""
    if not isinstance(data, dict):
        raise ValidationError({"body": ["Send an object with input (and optionally deployment_name)."]})
    chosen = str(data.get("deployment_name") or endpoint.default_deployment or "")
    deployment = endpoint.deployments.filter(name=chosen).select_related("model_version__model").first()
    if deployment is None:
        have = ", ".join(endpoint.deployments.values_list("name", flat=True)) or "none yet"
        raise ValidationError({"deployment_name": [f"{endpoint.name} has no deployment {chosen!r} ({have})."]})
    workspace = endpoint.workspace
    item = _input_item(workspace, data)
    files = _list_files(workspace, item)
    if not files:
        raise ValidationError({"input": [f"{item['path']} holds no files to score."]})
    code, entry = _child_code(workspace, deployment, actor=actor)
    settings = _settings_of(deployment)
    user = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    name = free_job_name(workspace, str(data.get("name") or ""))
    data_ref = f"azureml:{item['asset']}" if item.get("asset") else item["uri"]
    job = Job.objects.create(
        workspace=workspace,
        name=name,
        type=JobType.BATCH_SCORING,
        display_name=str(data.get("display_name") or f"{endpoint.name} / {deployment.name}")[:255],
        description=str(data.get("description") or "")[:5000],
        experiment=experiment_for(workspace, str(data.get("experiment_name") or endpoint.name), actor),
        status=JobStatus.RUNNING,
        created_by=user,
        created_at=now,
        queued_at=now,
        started_at=now,
        running_at=now,
        code=code,
        command=f"python {DRIVER} --entry {entry}",
        environment_ref=deployment.environment,
        environment_version=deployment.environment_version,
        compute_name=deployment.compute,
        inputs={"input_data": item},
        outputs={"score": {"type": "uri_folder"}},
        source="api",
    )
    model_input = {"type": deployment.model_version.type, "path": deployment.model_version.uri}
    child = {
        "command": (
            f"python {DRIVER} --data ${{{{inputs.data}}}} --model ${{{{inputs.model}}}} --entry {entry} "
            f"--timeout {settings.timeout}" + (" --no-rows" if settings.output_action == "summary_only" else "")
        ),
        "environment": deployment.environment,
        "compute": deployment.compute,
        "experiment_name": job.experiment.name,
        "inputs": {"data": {"type": item["type"], "path": data_ref, "mode": "download"}, "model": model_input},
        "environment_variables": deployment.environment_variables,
    }
    run = BatchRun.objects.create(
        job=job,
        endpoint=endpoint,
        deployment=deployment,
        endpoint_name=endpoint.name,
        deployment_name=deployment.name,
        settings=settings.as_dict(),
        child_data=child,
        total_files=len(files),
    )
    size = settings.mini_batch_size
    MiniBatch.objects.bulk_create(
        [
            MiniBatch(run=run, index=i, files=files[start : start + size])
            for i, start in enumerate(range(0, len(files), size))
        ]
    )
    who = user.get_username() if user else "someone"
    JobEvent.objects.create(
        job=job,
        kind=JobEvent.Kind.STATUS,
        status=JobStatus.RUNNING,
        message=f"Invoked by {who}: {len(files)} files in {run.mini_batches.count()} mini-batches of up to {size}",
        created_at=now,
    )
    activity.record(workspace, actor, "batch_endpoint.invoked", endpoint.name, job=job.name, deployment=deployment.name)
    scoring.advance_locked(run, refuse=True)
    job.refresh_from_db()
    return job


def refuse_batch_scoring_submission(workspace, *, actor, data: dict, code=None, source: str = "api") -> Job:
    """The jobs API's `type: batch_scoring`: such jobs are made by invoking a batch endpoint."""
    raise ValidationError(
        {"type": ["A batch scoring job is made by invoking a batch endpoint: POST /batch-endpoints/<name>/invoke/."]}
    )
