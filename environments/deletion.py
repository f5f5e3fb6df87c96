"""The environments app's part of deleting a workspace (studio.deletion): its environments,
their versions and builds with their logs, and what those builds made (a virtualenv folder, a
`studio-env:<hash>` image) when no environment outside the workspace has the same spec hash.
Curated environments belong to no workspace and are never touched."""

from __future__ import annotations

import logging
import shutil

from compute.backends import get_backend
from environments.models import Environment, EnvironmentBuild, EnvironmentVersion
from studio.deletion import Cleanup, WorkspacePart
from studio.models import LogChunk, Workspace

logger = logging.getLogger(__name__)


def inventory(workspace: Workspace) -> dict[str, int]:
    return {
        "environments": Environment.objects.filter(workspace=workspace).count(),
        "environment builds": EnvironmentBuild.objects.filter(version__environment__workspace=workspace).count(),
    }


def purge(workspace: Workspace) -> list[Cleanup]:
    builds = EnvironmentBuild.objects.filter(
        version__environment__workspace=workspace
    ) | EnvironmentBuild.objects.filter(workspace=workspace)
    builds = list(builds.distinct())
    LogChunk.objects.filter(stream__in=[b.log_stream for b in builds]).delete()
    # Products are named after the spec hash, so a product made for another workspace's build of
    # the same spec is this workspace's too once that one is gone.
    hashes = {b.spec_hash for b in builds} | set(
        EnvironmentVersion.objects.filter(environment__workspace=workspace).values_list("spec_hash", flat=True)
    )
    elsewhere = set(
        EnvironmentVersion.objects.exclude(environment__workspace=workspace)
        .filter(spec_hash__in=hashes)
        .values_list("spec_hash", flat=True)
    ) | set(
        EnvironmentBuild.objects.filter(spec_hash__in=hashes)
        .exclude(pk__in=[b.pk for b in builds])
        .values_list("spec_hash", flat=True)
    )
    return [lambda spec_hash=spec_hash: _remove(spec_hash) for spec_hash in sorted(hashes - elsewhere)]


def _remove(spec_hash: str) -> None:
    """Remove what Studio made for `spec_hash`: its virtualenv folder and its `studio-env:` image
    (never a user's own image or interpreter, which are not named after the hash)."""
    shutil.rmtree(get_backend("venv").path_for(spec_hash), ignore_errors=True)
    try:
        import docker.errors

        from compute.backends.docker import client

        client(timeout=30).images.remove(get_backend("docker").tag_for(spec_hash))
    except docker.errors.ImageNotFound:
        pass
    except Exception:  # the engine may be away: the image stays, which costs disk, not safety
        logger.warning("could not remove the image of spec %s of a deleted workspace", spec_hash, exc_info=True)


PART = WorkspacePart(name="environments", inventory=inventory, purge=purge, order=20)
