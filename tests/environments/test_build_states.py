"""A build's state machine moves through one function (services.advance_build): a claim happens
once, a finished build stays finished, and the reaper fails only what is still Running."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from environments import services, tasks
from environments.models import BuildStatus, EnvironmentBuild
from tests.environments.helpers import create

pytestmark = pytest.mark.django_db


@pytest.fixture
def build(workspace, owner):
    version = create(workspace, owner, {"name": "plain", "image": "studio/base:bookworm"})
    return EnvironmentBuild.objects.create(
        version=version, workspace=workspace, backend="venv", spec_hash=version.spec_hash, requested_by=owner
    )


def test_a_build_is_claimed_once(build):
    assert services.advance_build(build.pk, BuildStatus.QUEUED, BuildStatus.RUNNING)
    assert not services.advance_build(build.pk, BuildStatus.QUEUED, BuildStatus.RUNNING)
    build.refresh_from_db()
    assert build.status == BuildStatus.RUNNING and build.started_at is not None


def test_moves_outside_the_state_machine_are_refused(build):
    with pytest.raises(ValueError):
        services.advance_build(build.pk, BuildStatus.QUEUED, BuildStatus.SUCCEEDED)
    with pytest.raises(ValueError):
        services.advance_build(build.pk, BuildStatus.SUCCEEDED, BuildStatus.RUNNING)


def test_the_reaper_fails_a_stale_running_build_and_leaves_the_others(build, workspace, owner):
    services.advance_build(build.pk, BuildStatus.QUEUED, BuildStatus.RUNNING)
    EnvironmentBuild.objects.filter(pk=build.pk).update(started_at=timezone.now() - timedelta(days=1))
    assert tasks.reap_stale_builds() == 1
    build.refresh_from_db()
    assert build.status == BuildStatus.FAILED and "stopped before it finished" in build.error
    assert build.finished_at is not None
    assert tasks.reap_stale_builds() == 0
