"""State changes of environments: one function each, atomic, with their activity events.

Pages, the REST API, the curated loader and tasks call these; none of them writes these models
itself.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from compute.backends import KINDS
from environments import builds, context, hashing
from environments.models import BuildStatus, Environment, EnvironmentBuild, EnvironmentVersion
from environments.spec import Definition
from studio import activity, versioning
from studio.actor import Actor
from studio.errors import Conflict
from studio.models import Workspace


def _environment_for(workspace: Workspace | None, name: str, actor: Actor | None) -> tuple[Environment, bool]:
    """The (locked) environment row, created if new; its lock serialises version numbering."""
    env = Environment.objects.select_for_update().filter(workspace=workspace, name=name).first()
    if env is not None:
        return env, False
    if workspace is not None and Environment.objects.filter(workspace=workspace, name__iexact=name).exists():
        other = Environment.objects.get(workspace=workspace, name__iexact=name).name
        raise Conflict({"name": [f"An environment named {other!r} exists; names differ only in case."]})
    try:
        with transaction.atomic():
            env = Environment.objects.create(
                workspace=workspace, name=name, curated=workspace is None, created_by=actor
            )
    except IntegrityError:
        return Environment.objects.select_for_update().get(workspace=workspace, name=name), False
    return env, True


def _store_version(
    workspace: Workspace | None, definition: Definition, *, actor: Actor | None
) -> tuple[EnvironmentVersion, bool]:
    """Store a checked definition as a new version (numbered unless it names one). Returns the
    version and whether the environment is new. Callers hold a transaction."""
    env, created = _environment_for(workspace, definition.name, actor)
    existing = list(env.versions.values_list("version", flat=True))
    version = definition.version or versioning.next_version(existing)
    if version in existing:
        raise Conflict(
            {
                "version": [
                    f"{env.name}:{version} already exists and versions cannot be changed; "
                    f"give another version or leave it empty to get {versioning.next_version(existing)}."
                ]
            }
        )
    files = definition.files
    row = EnvironmentVersion(
        environment=env,
        version=version,
        description=definition.description,
        tags=definition.tags,
        image=definition.image,
        conda_file=definition.conda_file,
        pip_requirements=definition.pip_requirements,
        dockerfile_path=definition.dockerfile_path if files else "",
        dockerfile=definition.dockerfile,
        context_archive=context.pack(files) if files else None,
        context_files=context.manifest(files) if files else [],
        environment_variables=definition.environment_variables,
        os_type=definition.os_type,
        user_managed=definition.user_managed,
        interpreter_path=definition.interpreter_path,
        spec_hash=hashing.spec_hash(definition),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    row.save()
    return row, created


@transaction.atomic
def do_create_environment_version(workspace: Workspace, *, actor: Actor, definition: Definition) -> EnvironmentVersion:
    """A new version of a workspace environment (the environment is created with its first
    version). Curated names were refused by spec.parse; this refuses them again for callers that
    built a Definition themselves."""
    if definition.name.lower().startswith("studio-"):
        raise ValidationError({"name": ["Names starting with 'Studio-' are reserved for curated environments."]})
    version, created = _store_version(workspace, definition, actor=actor)
    activity.record(
        workspace,
        actor,
        "environment.created" if created else "environment.version_created",
        version.reference,
        kind=version.kind_label,
    )
    return version


@transaction.atomic
def do_add_curated_version(definition: Definition) -> EnvironmentVersion:
    """A new version of a curated environment, from the files in environments/curated (Studio
    itself adds it: no workspace, no actor, so no activity event)."""
    version, _ = _store_version(None, definition, actor=None)
    return version


# Queued -> Running -> Succeeded | Failed (EnvironmentBuild's state machine); a Queued build may
# also fail without running (its worker was lost before it started).
BUILD_MOVES: dict[str, set[str]] = {
    BuildStatus.QUEUED: {BuildStatus.RUNNING, BuildStatus.FAILED},
    BuildStatus.RUNNING: {BuildStatus.SUCCEEDED, BuildStatus.FAILED},
}


def advance_build(build_id: int, from_status: str, to: str, **fields: object) -> bool:
    """Move a build from `from_status` to `to` in one conditional update (the claim of a worker,
    the reaper's verdict); False, and nothing written, when it had moved on meanwhile. Sets the
    phase timestamp."""
    if to not in BUILD_MOVES.get(from_status, set()):
        raise ValueError(f"a build does not go from {from_status} to {to}")
    stamp = "started_at" if to == BuildStatus.RUNNING else "finished_at"
    values = {"status": to, stamp: timezone.now(), **fields}
    return bool(EnvironmentBuild.objects.filter(pk=build_id, status=from_status).update(**values))


def _writable(version: EnvironmentVersion) -> None:
    if version.environment.curated:
        raise PermissionDenied("Curated environments are read-only; create your own from one with 'New version'.")


@transaction.atomic
def do_archive_environment_version(
    version: EnvironmentVersion, *, actor: Actor, workspace: Workspace
) -> EnvironmentVersion:
    """Hide a version from lists and from `@latest`; `name:version` still resolves."""
    _writable(version)
    if not version.archived:
        version.archived = True
        version.save(update_fields=["archived"])
        activity.record(workspace, actor, "environment.archived", version.reference)
    return version


@transaction.atomic
def do_restore_environment_version(
    version: EnvironmentVersion, *, actor: Actor, workspace: Workspace
) -> EnvironmentVersion:
    _writable(version)
    if version.archived:
        version.archived = False
        version.save(update_fields=["archived"])
        activity.record(workspace, actor, "environment.restored", version.reference)
    return version


@transaction.atomic
def do_start_build(
    version: EnvironmentVersion, *, backend: str, workspace: Workspace, actor: Actor, force: bool = False
) -> tuple[EnvironmentBuild, str]:
    """Ask for `version` on `backend`. Idempotent by spec hash: returns ("running", build) when one
    is under way, ("cached", build) when the spec is already built (a cache-hit record, made at
    once), else ("queued", build) with a Celery task enqueued on commit. `force` (rebuild) skips
    the cache and keeps every earlier build record."""
    if backend not in KINDS:
        raise ValidationError({"backend": [f"Choose a backend: {', '.join(KINDS)}."]})
    pending = (
        EnvironmentBuild.objects.filter(
            spec_hash=version.spec_hash, backend=backend, status__in=[BuildStatus.QUEUED, BuildStatus.RUNNING]
        )
        .filter(version=version)
        .first()
    )
    if pending is not None:
        return pending, "running"
    reason = "rebuild requested: the cache was not consulted"
    if not force:
        hit, reason = builds.find_reusable(version, backend, workspace=workspace)
        if hit is not None:
            return builds.record_cache_hit(version, backend, hit, workspace=workspace, actor=actor), "cached"
    build = builds.new_build(
        version,
        backend,
        workspace=workspace,
        actor=actor,
        reason=reason,
        status=BuildStatus.QUEUED,
        forced=force,
    )
    activity.record(
        workspace, actor, "environment.build_started", version.reference, backend=backend, build=build.pk, why=reason
    )
    from environments.tasks import build_environment

    transaction.on_commit(lambda: build_environment.delay(build.pk))
    return build, "queued"
