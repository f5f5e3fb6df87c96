"""Celery tasks of the environments app: they take build ids, never objects."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from environments import builds, services
from environments.models import BuildStatus, EnvironmentBuild
from studio import logs

# Builds are long (a cold PyTorch install is minutes); the limits follow STUDIO_BUILD_TIMEOUT.
_SOFT = settings.STUDIO_BUILD_TIMEOUT + 60
_HARD = settings.STUDIO_BUILD_TIMEOUT + 120


@shared_task(acks_late=True, soft_time_limit=_SOFT, time_limit=_HARD)
def build_environment(build_id: int) -> str:
    """Run a Queued build. Claimed atomically: a second delivery of the same message, or a build
    already taken by another worker, does nothing."""
    if not services.advance_build(build_id, BuildStatus.QUEUED, BuildStatus.RUNNING):
        return "not queued"
    build = EnvironmentBuild.objects.select_related("version__environment", "workspace", "requested_by").get(
        pk=build_id
    )
    try:
        builds.execute(build)
    except builds.BuildFailed as exc:
        return f"failed: {exc.build.error}"
    return "succeeded"


@shared_task(acks_late=True, soft_time_limit=60, time_limit=120)
def reap_stale_builds() -> int:
    """Fail builds whose worker died: Running for longer than the build timeout allows."""
    cutoff = timezone.now() - timedelta(seconds=_HARD + 60)
    stale = list(EnvironmentBuild.objects.filter(status=BuildStatus.RUNNING, started_at__lt=cutoff))
    for build in stale:
        message = "The worker running this build stopped before it finished; start the build again."
        if services.advance_build(build.pk, BuildStatus.RUNNING, BuildStatus.FAILED, error=message):
            logs.append(build.log_stream, f"\n{message}\n")
    return len(stale)
