"""The jobs app's calls into environments, compute and datastores (the apps below it), and the
hook through which MLflow tracking (above it) joins a run, in one place.

Each is a thin adapter over the owning app's public function, so the runner and the services read
as one story and a changed contract is fixed here only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from compute import services as compute_services
from compute.models import ComputeTarget, Node, NodeState
from datastores import materialize
from datastores.models import asset_name_validator
from datastores.paths import parse_uri
from environments import builds, hashing
from environments import resolve as environment_resolve
from environments import services as environment_services
from environments import spec as environment_spec
from environments.models import EnvironmentVersion
from jobs import io_types
from studio.permissions import can
from studio.versioning import validate_version

# --- environments -------------------------------------------------------------------------------


ANONYMOUS_ENVIRONMENT = "CliV2AnonymousEnvironment"


def resolve_environment(workspace, ref: str | dict, *, actor=None):
    """Pin an environment reference to a concrete EnvironmentVersion. An inline definition (a
    mapping, as in CLI YAML) becomes a version of the workspace's `CliV2AnonymousEnvironment`
    numbered by its spec hash, as Azure ML does, so equal definitions share one version."""
    if isinstance(ref, str):
        return environment_resolve.resolve_environment(workspace, ref)
    if actor is None or not can(actor, workspace, "environments.write"):
        # It becomes a listed workspace environment that others may use: the same right as creating one.
        raise ValidationError(
            {
                "environment": [
                    f"An inline environment is saved as a workspace environment ({ANONYMOUS_ENVIRONMENT}), which "
                    f"needs environments.write; your role in {workspace.name} lacks it. Refer to an existing "
                    "environment instead (name:version or name@latest)."
                ]
            }
        )
    data = {k: v for k, v in ref.items() if k not in ("name", "version", "$schema")}
    try:
        definition = environment_spec.parse({**data, "name": ANONYMOUS_ENVIRONMENT}, source="inline environment")
    except ValidationError as exc:
        raise ValidationError({"environment": [" ".join(exc.messages)]}) from None
    digest = hashing.spec_hash(definition)
    found = (
        EnvironmentVersion.objects.filter(
            environment__workspace=workspace, environment__name=ANONYMOUS_ENVIRONMENT, spec_hash=digest
        )
        .select_related("environment")
        .first()
    )
    if found is not None:
        return found
    definition.version = digest[:16]
    return environment_services.do_create_environment_version(workspace, actor=actor, definition=definition)


def ensure_built(version, backend_kind: str, log, *, workspace=None, actor=None):
    """Build (or reuse) `version` on `backend_kind`, streaming build lines to `log`."""
    return builds.ensure_built(version, backend_kind, log=log, workspace=workspace, actor=actor)


def reuse_note(build) -> str:
    """Why a reused build answers ("already built (build #3)", or its cache-hit reason)."""
    from environments.builds import reuse_note as note

    return note(build)


def cache_outlook(version, backend_kind: str, workspace) -> tuple[bool, str]:
    """(cache hit?, reason) for building `version` on `backend_kind` now."""
    hit, reason = builds.find_reusable(version, backend_kind, workspace=workspace)
    return hit is not None, reason


def environment_variables_of(job) -> dict[str, str]:
    version = getattr(job, "environment_version", None)
    return dict(getattr(version, "environment_variables", None) or {})


# --- compute ------------------------------------------------------------------------------------


def find_compute(workspace, name: str):
    """The workspace's compute target called `name` (case-insensitive), or a ValidationError."""
    target = ComputeTarget.objects.filter(workspace=workspace, name__iexact=name).first()
    if target is None:
        names = list(ComputeTarget.objects.filter(workspace=workspace).values_list("name", flat=True))
        raise ValidationError(
            {
                "compute": [
                    f"There is no compute target {name!r} in this workspace (there is: {', '.join(names) or 'none'})."
                ]
            }
        )
    return target


def check_can_accept(target, user) -> None:
    compute_services.check_can_accept(target, user)


def run_refusal(job) -> str:
    """Why this claimed job may not run on its compute target now ("" when it may)."""
    return compute_services.refusal_to_run(job.compute, job.created_by)


def queue_for(job) -> str:
    target = getattr(job, "compute", None)
    return target.queue_name if target is not None else settings.CELERY_TASK_DEFAULT_QUEUE


def lost_node_names() -> set[str]:
    """Worker names of nodes the compute reaper has marked Unreachable."""
    return set(Node.objects.filter(state=NodeState.UNREACHABLE).values_list("worker_name", flat=True))


# --- datastores ---------------------------------------------------------------------------------


def resolve_input(workspace, name: str, item: dict) -> dict:
    """Check a data input at submission and pin what it points to (an `@latest` asset becomes its
    version's URI); returns the item to keep on the job, with the pinned form under "resolved".
    Types registered in io_types (models) go to their handler."""
    handler = io_types.INPUT_TYPES.get(item.get("type", ""))
    if handler is not None:
        return handler.resolve(workspace, name, item)
    resolved = materialize.resolve_input(workspace, item, name=name)
    return {**item, "uri": resolved.uri, "asset": resolved.asset, "resolved": resolved.as_dict()}


def record_input_usage(job) -> None:
    """Lineage: the data asset versions this job reads."""
    for name, item in job.inputs.items():
        handler = io_types.INPUT_TYPES.get(item.get("type", ""))
        if handler is not None:
            handler.record_usage(job, name, item)
            continue
        version_id = (item.get("resolved") or {}).get("asset_version_id")
        if version_id:
            materialize.record_usage(version_id, job.name, port=name)


def materialize_input(job, item: dict, dest: Path) -> Path:
    """Copy a data input into the job folder; returns the path its placeholder stands for."""
    handler = io_types.INPUT_TYPES.get(item.get("type", ""))
    if handler is not None:
        return Path(handler.materialize(job, item, dest))
    return Path(materialize.materialize_input(item.get("resolved") or item, dest))


def check_output(item: dict) -> None:
    """Check a named output's destination and registration before anything runs (storage is not
    touched): `path` is a datastore URI, `name` a data asset name, `version` a version label.
    Types registered in io_types (models) check their own `name`."""
    handler = io_types.OUTPUT_TYPES.get(item.get("type", ""))
    if item.get("path"):
        try:
            parse_uri(item["path"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
    if item.get("name") and handler is not None:
        handler.check(item)
    elif item.get("name"):
        try:
            asset_name_validator(item["name"])
        except ValidationError as exc:
            raise ValidationError(f"{item['name']!r} is not a data asset name: {' '.join(exc.messages)}") from None
    if item.get("version"):
        try:
            validate_version(item["version"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        if item["version"] == "latest":
            raise ValidationError("'latest' is a label, not a version: give one such as 1, or none for the next.")


def check_output_access(workspace, *, actor, job_name: str, output_name: str, item: dict) -> None:
    """Who may write where: see datastores.materialize.check_output_destination."""
    spec = {k: v for k, v in item.items() if k in ("type", "mode", "path", "name", "version")}
    materialize.check_output_destination(workspace, actor=actor, job_name=job_name, output_name=output_name, spec=spec)


def upload_named_outputs(job, outputs_dir: Path, log) -> None:
    """Named outputs go to a datastore, as on Azure ML (the spec's `path`, else
    workspaceblobstore/azureml/<job>/<output>), and are registered as data assets when they have
    a `name`. The URIs are kept on the job."""
    if not job.outputs:
        return
    outputs = {k: dict(v) for k, v in job.outputs.items()}
    for name, item in outputs.items():
        spec = {k: v for k, v in item.items() if k in ("type", "mode", "path", "name", "version")}
        uri = materialize.upload_output(
            job.workspace, outputs_dir / name, job_name=job.name, output_name=name, spec=spec
        )
        item["uri"] = uri
        log(f"Output {name}: uploaded to {uri}")
        handler = io_types.OUTPUT_TYPES.get(item.get("type", ""))
        if item.get("name") and handler is not None:
            item.update(handler.register(job, name, item, uri))
            if item.get("asset"):
                log(f"Output {name}: registered as {item['asset']}")
        elif item.get("name"):
            version = materialize.register_output_asset(
                job.workspace, uri, spec=spec, job_name=job.name, output_name=name, actor=job.created_by
            )
            if version is not None:
                item["asset"] = version.reference
                log(f"Output {name}: registered as {item['asset']}")
    type(job).objects.filter(pk=job.pk).update(outputs=outputs)
    job.outputs = outputs


# --- run hooks (MLflow tracking) -----------------------------------------------------------------


@dataclass(frozen=True)
class RunHook:
    """What a higher app adds to every run: `env(job, server_url)` gives variables for the job's
    process (MLFLOW_* with a job-scoped token), `finished(job)` cleans up when it ends."""

    env: Callable[..., dict[str, str]]
    finished: Callable[..., None]


_run_hooks: dict[str, RunHook] = {}


def register_run_hook(key: str, hook: RunHook) -> None:
    """Called from an AppConfig.ready(); `key` keeps a second registration from doubling it."""
    _run_hooks[key] = hook


def tracking_env(job) -> dict[str, str]:
    """The variables every registered hook adds to the job's process."""
    env: dict[str, str] = {}
    for hook in _run_hooks.values():
        env.update(hook.env(job, settings.STUDIO_PUBLIC_URL))
    return env


def revoke_tracking(job) -> None:
    for hook in _run_hooks.values():
        hook.finished(job)
