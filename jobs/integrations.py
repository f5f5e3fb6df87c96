"""The jobs app's calls into environments, compute, datastores and MLflow tracking, in one place.

Each is a thin adapter over the owning app's public function, so the runner and the services read
as one story and a changed contract is fixed here only.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError


def _optional(module: str, name: str):
    """A function of another app, or None while that app does not provide it."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


# --- environments -------------------------------------------------------------------------------


ANONYMOUS_ENVIRONMENT = "CliV2AnonymousEnvironment"


def resolve_environment(workspace, ref: str | dict, *, actor=None):
    """Pin an environment reference to a concrete EnvironmentVersion. An inline definition (a
    mapping, as in CLI YAML) becomes a version of the workspace's `CliV2AnonymousEnvironment`
    numbered by its spec hash, as Azure ML does, so equal definitions share one version."""
    from environments.resolve import resolve_environment as resolve

    if isinstance(ref, str):
        return resolve(workspace, ref)
    from environments import hashing, services, spec
    from environments.models import EnvironmentVersion

    data = {k: v for k, v in ref.items() if k not in ("name", "version", "$schema")}
    try:
        definition = spec.parse({**data, "name": ANONYMOUS_ENVIRONMENT}, source="inline environment")
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
    return services.do_create_environment_version(workspace, actor=actor, definition=definition)


def ensure_built(version, backend_kind: str, log, *, workspace=None, actor=None):
    """Build (or reuse) `version` on `backend_kind`, streaming build lines to `log`."""
    from environments.builds import ensure_built as build

    return build(version, backend_kind, log=log, workspace=workspace, actor=actor)


def cache_outlook(version, backend_kind: str, workspace) -> tuple[bool, str]:
    """(cache hit?, reason) for building `version` on `backend_kind` now."""
    from environments.builds import find_reusable

    hit, reason = find_reusable(version, backend_kind, workspace=workspace)
    return hit is not None, reason


def environment_variables_of(job) -> dict[str, str]:
    version = getattr(job, "environment_version", None)
    return dict(getattr(version, "environment_variables", None) or {})


# --- compute ------------------------------------------------------------------------------------


def find_compute(workspace, name: str):
    """The workspace's compute target called `name` (case-insensitive), or a ValidationError."""
    from compute.models import ComputeTarget

    target = ComputeTarget.objects.filter(workspace=workspace, name__iexact=name).first()
    if target is None:
        names = list(ComputeTarget.objects.filter(workspace=workspace).values_list("name", flat=True))
        raise ValidationError(
            {"compute": [f"There is no compute target {name!r} in this workspace (there is: {', '.join(names) or 'none'})."]}
        )
    return target


def check_can_accept(target, user) -> None:
    check = _optional("compute.services", "check_can_accept")
    if check is not None:
        check(target, user)


def queue_for(job) -> str:
    target = getattr(job, "compute", None)
    return target.queue_name if target is not None else settings.CELERY_TASK_DEFAULT_QUEUE


def lost_node_names() -> set[str]:
    """Worker names of nodes the compute reaper has marked Unreachable."""
    try:
        from compute.models import Node, NodeState
    except ImportError:
        return set()
    return set(Node.objects.filter(state=NodeState.UNREACHABLE).values_list("worker_name", flat=True))


# --- datastores ---------------------------------------------------------------------------------


def resolve_input(workspace, name: str, item: dict) -> dict:
    """Check a data input at submission and pin what it points to; returns the item to store."""
    resolve = _optional("datastores.materialize", "resolve_input")
    if resolve is None:
        raise ValidationError({f"inputs.{name}": ["Data inputs need the datastores app, which is not available."]})
    resolved = resolve(workspace, item)
    if isinstance(resolved, dict):
        return {**item, **resolved}
    return {**item, "resolved": _plain(resolved)}


def materialize_input(job, item: dict, dest: Path) -> Path:
    materialize = _optional("datastores.materialize", "materialize_input")
    if materialize is None:
        raise RuntimeError("the datastores app cannot materialise inputs here")
    resolved = item.get("resolved", item)
    return Path(materialize(job.workspace, resolved, dest) if _takes_workspace(materialize) else materialize(resolved, dest))


def upload_named_outputs(job, outputs_dir: Path, log) -> None:
    """Named outputs with a datastore `path` (or a registration `name`) go to the datastores app."""
    upload = _optional("datastores.materialize", "upload_output")
    register = _optional("datastores.materialize", "register_output_asset")
    for name, item in job.outputs.items():
        if not (item.get("path") or item.get("name")):
            continue
        if upload is None:
            log(f"Output {name}: kept with the job (the datastores app is not available to upload it)")
            continue
        uri = upload(job.workspace, outputs_dir / name, job_name=job.name, output_name=name, spec=item)
        log(f"Output {name}: uploaded to {uri}")
        if item.get("name") and register is not None:
            register(job.workspace, uri=uri, spec=item, job_name=job.name, output_name=name, actor=job.created_by)


def _takes_workspace(func) -> bool:
    import inspect

    try:
        return "workspace" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def _plain(value: Any):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


# --- MLflow tracking ----------------------------------------------------------------------------


def tracking_env(job) -> dict[str, str]:
    """MLFLOW_* variables (with a fresh job-scoped token) pointing the job's mlflow client at us."""
    make = _optional("jobs.tracking", "tracking_env")
    if make is None:
        return {}
    return make(job, settings.STUDIO_PUBLIC_URL)


def revoke_tracking(job) -> None:
    revoke = _optional("jobs.tracking", "revoke_job_tokens")
    if revoke is not None:
        revoke(job)
