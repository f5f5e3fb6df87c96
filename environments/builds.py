"""Materialising environment versions on a backend, idempotently by spec hash.

    ensure_built(version, "venv", log=print) -> EnvironmentBuild

returns at once on a cache hit (the same spec hash built successfully on that backend, and its
venv or image still here), and otherwise builds synchronously, streaming each line to `log` and
to the build's own log stream (`build/<id>`). The Celery task behind the UI and the API calls
`execute`; the job runner calls `ensure_built` directly.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compute.backends import BuildError, BuildSpec, get_backend
from environments import conda, context
from environments.hashing import build_variables
from environments.locks import build_lock
from environments.models import BuildStatus, EnvironmentBuild, EnvironmentVersion
from studio import activity, logs
from studio.logs import LogWriter

logger = logging.getLogger(__name__)


class BuildFailed(Exception):
    """The build ran and failed; `build.error` holds the line to show."""

    def __init__(self, build: EnvironmentBuild):
        super().__init__(f"{build}: {build.error}")
        self.build = build


def requirements_for(version: EnvironmentVersion) -> tuple[list[str], str | None]:
    """Pip requirement lines and the python pin of a stored version (conda file translated)."""
    if version.conda_file:
        parsed, _ = conda.parse_conda(version.conda_file)
        translation = conda.translate(parsed)
        lines = conda.check_pip_lines(translation.requirements, field_name="conda_file", where="conda file")
        return lines, translation.python
    if version.pip_requirements:
        lines = version.pip_requirements.splitlines()
        return conda.check_pip_lines(lines, field_name="pip_requirements", where="pip requirements"), None
    return [], None


def spec_for(version: EnvironmentVersion, context_dir: Path | None = None) -> BuildSpec:
    requirements, python = requirements_for(version)
    return BuildSpec(
        spec_hash=version.spec_hash,
        image=version.image,
        requirements=tuple(requirements),
        python=python,
        context_dir=context_dir,
        dockerfile_path=version.dockerfile_path or "Dockerfile",
        build_env=build_variables(version.environment_variables),
        user_managed=version.user_managed,
        interpreter_path=version.interpreter_path,
        label=version.reference,
    )


@contextmanager
def materialised_context(version: EnvironmentVersion):
    """The version's build context unpacked in a temporary folder (None when it has none)."""
    if not version.context_archive:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="studio-context-") as tmp:
        context.unpack(bytes(version.context_archive), Path(tmp))
        yield Path(tmp)


def _describe(source: EnvironmentBuild, workspace) -> str:
    env = source.version.environment
    if env.workspace_id is None or (workspace is not None and env.workspace_id == workspace.pk):
        return f"same spec as {source.version.reference} (build #{source.pk})"
    return f"same spec, built in another workspace (build #{source.pk})"


def find_reusable(
    version: EnvironmentVersion, backend_kind: str, *, workspace=None, exclude: int | None = None
) -> tuple[EnvironmentBuild | None, str]:
    """A successful build of this spec on this backend whose result is still here, or None and
    the reason it is a miss."""
    backend = get_backend(backend_kind)
    candidates = list(
        EnvironmentBuild.objects.reusable(version.spec_hash, backend_kind)
        .exclude(pk=exclude)
        .select_related("version__environment")[:5]
    )
    gone = None
    for build in candidates:
        if build.location and backend.exists(build.location):
            return build, ""
        gone = gone or build
    if gone is not None:
        return None, f"cache miss: the {backend.product} of build #{gone.pk} is no longer on this host"
    failed = (
        EnvironmentBuild.objects.filter(spec_hash=version.spec_hash, backend=backend_kind, status=BuildStatus.FAILED)
        .exclude(pk=exclude)
        .order_by("-pk")
        .first()
    )
    if failed is not None:
        return None, f"cache miss: the last build of this spec (#{failed.pk}) failed"
    return None, f"cache miss: this spec has not been built on {backend_kind} before"


RESULT_FIELDS = ("python", "image", "location", "resolved_packages", "base_image_id")


def result_of(source) -> dict:
    """What a build produced (a BuildOutput or a successful build), as EnvironmentBuild fields."""
    return {name: getattr(source, name) for name in RESULT_FIELDS}


def _origin(source: EnvironmentBuild) -> EnvironmentBuild:
    """The build that really ran: a cache hit points at its own source, never at another hit."""
    return source.source if source.cache_hit and source.source_id else source


def new_build(version: EnvironmentVersion, backend_kind: str, *, workspace, actor, reason: str, **fields):
    """A build record of `version` on `backend_kind` (the one place that creates them)."""
    return EnvironmentBuild.objects.create(
        version=version,
        workspace=workspace,
        backend=backend_kind,
        spec_hash=version.spec_hash,
        reason=reason[:500],
        requested_by=actor if actor is not None and actor.is_authenticated else None,
        **fields,
    )


def record_cache_hit(
    version: EnvironmentVersion, backend_kind: str, source: EnvironmentBuild, *, workspace=None, actor=None
) -> EnvironmentBuild:
    """The build that answers for `version`: `source` itself when it is this version's own, else
    a new cache-hit record that points at it (so the version's history says where it came from)."""
    if source.version_id == version.pk and (source.workspace_id == getattr(workspace, "pk", None) or not workspace):
        return source
    origin = _origin(source)
    now = timezone.now()
    reason = f"cache hit: {_describe(origin, workspace)}"
    build = new_build(
        version,
        backend_kind,
        workspace=workspace if workspace is not None else version.environment.workspace,
        actor=actor,
        reason=reason,
        status=BuildStatus.SUCCEEDED,
        cache_hit=True,
        source=origin,
        created_at=now,
        started_at=now,
        finished_at=now,
        **result_of(source),
    )
    logs.append(build.log_stream, f"{reason}; nothing to build.\n{source.location}\n")
    if build.workspace is not None:
        activity.record(
            build.workspace, actor, "environment.built", version.reference, backend=backend_kind, how="cache hit"
        )
    return build


def reuse_note(build: EnvironmentBuild) -> str:
    """Why a build that already existed answers: its cache-hit reason, or "already built (build #N)"
    for the version's own earlier build (whose stored reason says why it was built back then)."""
    return build.reason if build.cache_hit else f"already built (build #{build.pk})"


def ensure_built(
    version: EnvironmentVersion,
    backend_kind: str,
    log: Callable[[str], None] | None = None,
    *,
    workspace=None,
    actor=None,
    force: bool = False,
) -> EnvironmentBuild:
    """The successful build of `version` on `backend_kind`, building it now if need be.
    Raises BuildFailed (with the build record, log kept) when the build fails."""
    reason = "rebuild requested: the cache was not consulted"
    if not force:
        hit, reason = find_reusable(version, backend_kind, workspace=workspace)
        if hit is not None:
            build = record_cache_hit(version, backend_kind, hit, workspace=workspace, actor=actor)
            if log:
                log(f"Environment {version.reference}: {reuse_note(build)} ({build.location})")
            return build
    build = new_build(
        version,
        backend_kind,
        workspace=workspace if workspace is not None else version.environment.workspace,
        actor=actor,
        reason=reason,
        status=BuildStatus.RUNNING,
        forced=force,
        started_at=timezone.now(),
    )
    if build.workspace is not None:  # a job's own build is a state change too, like do_start_build's
        activity.record(
            build.workspace, actor, "environment.build_started", version.reference, backend=backend_kind, why=reason
        )
    return execute(build, log)


def execute(build: EnvironmentBuild, log: Callable[[str], None] | None = None) -> EnvironmentBuild:
    """Run a Running build to its end. The log is fully written before the final status is
    saved, so a reader that sees the final status has seen the whole log."""
    version = build.version
    backend = get_backend(build.backend)
    started = time.monotonic()
    output = error = None
    reused = None
    with LogWriter(build.log_stream) as writer:

        def emit(line: str) -> None:
            writer.write(line + "\n")
            if log is not None:
                log(line)

        emit(f"Build #{build.pk}: {version.reference} on {build.backend}, spec sha256:{version.spec_hash[:16]}…")
        emit(build.reason)
        try:
            with build_lock(build, emit, timeout=settings.STUDIO_BUILD_TIMEOUT + 120):
                if not build.forced:
                    reused, _ = find_reusable(version, build.backend, workspace=build.workspace, exclude=build.pk)
                if reused is None:
                    with materialised_context(version) as context_dir:
                        spec = spec_for(version, context_dir)
                        output = backend.build(spec, emit, nocache=build.forced)
        except BuildError as exc:
            error = exc.line or str(exc)
            emit(f"ERROR: {exc}")
            if exc.line and exc.line != str(exc):
                emit(exc.line)
        except Exception as exc:  # an unexpected failure still ends the build, with its reason, and is logged
            logger.exception("build #%s failed unexpectedly", build.pk)
            error = f"Studio could not run the build: {type(exc).__name__}: {exc}"
            emit(error)
        if reused is not None:
            emit(f"cache hit: {_describe(reused, build.workspace)}, finished while this build waited.")
        elif output is not None:
            emit(f"Succeeded in {time.monotonic() - started:.1f} s.")
        else:
            emit(f"Failed after {time.monotonic() - started:.1f} s: {error}")
    build = _finish(build, output=output, reused=reused, error=error)
    if not build.succeeded:
        raise BuildFailed(build)
    return build


@transaction.atomic
def _finish(build: EnvironmentBuild, *, output, reused, error) -> EnvironmentBuild:
    source = output or reused
    build.finished_at = timezone.now()
    if source is not None:
        build.status = BuildStatus.SUCCEEDED
        for name, value in result_of(source).items():
            setattr(build, name, value)
        if reused is not None:
            build.cache_hit = True
            build.source = _origin(reused)
            build.reason = f"cache hit: {_describe(build.source, build.workspace)}"[:500]
    else:
        build.status = BuildStatus.FAILED
        build.error = (error or "The build failed.")[:1000]
    build.save()
    if build.workspace is not None:
        if build.succeeded:
            how = "cache hit" if build.cache_hit else f"{build.duration or 0:.1f} s"
            verb, data = "environment.built", {"how": how}
        else:
            verb, data = "environment.build_failed", {"error": build.error[:200]}
        activity.record(
            build.workspace, build.requested_by, verb, build.version.reference, backend=build.backend, **data
        )
    return build
