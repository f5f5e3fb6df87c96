"""Real docker builds from the local base image (never pulled): a tiny conda environment and a
build context, their streamed logs, the cache hit on the second build, and a missing base image."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings

from compute.backends import get_backend
from environments import builds
from environments.models import BuildStatus
from studio import logs
from tests.conftest import require
from tests.environments.helpers import build_while_watching, conda_definition, create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker]


@pytest.fixture
def engine():
    ok, why = get_backend("docker").available()
    require(ok, f"Docker ({why})")
    import docker

    client = docker.from_env()
    try:
        client.images.get(settings.STUDIO_BASE_IMAGE)
    except docker.errors.ImageNotFound:
        require(False, f"the base image {settings.STUDIO_BASE_IMAGE} (bash .ci/base-image.sh)")
    tags: list[str] = []
    yield client, tags
    for tag in tags:  # each test's spec is unique, so its image is removed afterwards
        try:
            client.images.remove(tag, force=True)
        except docker.errors.DockerException:
            pass


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def test_a_docker_build_streams_its_log_and_the_second_build_is_a_cache_hit(workspace, owner, engine):
    client, tags = engine
    # A build variable unique to this run makes the spec (and so the RUN layer) new: a real build.
    definition = conda_definition(
        image=settings.STUDIO_BASE_IMAGE, environment_variables={"UV_HTTP_TIMEOUT": "120", "PIP_STUDIO_TEST": _unique()}
    )
    version = create(workspace, owner, definition)
    tags.append(f"studio-env:{version.spec_hash}")
    # While it builds, the stored log grows: a reader following build/<id> sees it live.
    build, lines, sizes = build_while_watching(version, "docker", workspace=workspace, actor=owner)

    assert build.status == BuildStatus.SUCCEEDED and not build.cache_hit
    assert build.image == f"studio-env:{version.spec_hash}"
    assert "six==1.16.0" in build.resolved_packages
    base = client.images.get(settings.STUDIO_BASE_IMAGE)
    assert build.base_image_id == base.id
    image = client.images.get(build.image)
    assert image.labels.get("studio.spec_hash") == version.spec_hash
    assert any(line.startswith("Step ") for line in lines)
    assert any(0 < s for s in sizes[:-1]), "the log was not readable before the build ended"
    assert "Succeeded" in logs.read_all(build.log_stream)
    out = client.containers.run(
        build.image, ["python", "-c", "import six; print(six.__version__)"], network_mode="none", remove=True
    )
    assert out.decode().strip() == "1.16.0"

    started = time.perf_counter()
    again = builds.ensure_built(version, "docker", workspace=workspace)
    assert time.perf_counter() - started < 0.5
    assert again.pk == build.pk

    twin = create(workspace, owner, definition | {"name": "env-b"})
    hit = builds.ensure_built(twin, "docker", workspace=workspace)
    assert hit.cache_hit and hit.image == build.image
    assert hit.reason == f"cache hit: same spec as env-a:1 (build #{build.pk})"


def test_a_build_context_is_built_as_given(workspace, owner, engine):
    _, tags = engine
    marker = _unique()
    files = {
        "Dockerfile": f"FROM {settings.STUDIO_BASE_IMAGE}\nCOPY app/hello.txt /h.txt\nRUN cat /h.txt\n".encode(),
        "app/hello.txt": f"hello {marker}\n".encode(),
    }
    version = create(workspace, owner, {"name": "ctx", "build": {"path": "."}}, files=files)
    tags.append(f"studio-env:{version.spec_hash}")
    build = builds.ensure_built(version, "docker", workspace=workspace)
    assert build.succeeded and build.image == f"studio-env:{version.spec_hash}"
    assert f"hello {marker}" in logs.read_all(build.log_stream)


def test_a_base_image_that_is_not_in_the_engine_is_never_pulled(workspace, owner, engine):
    files = {"Dockerfile": b"FROM studio/not-here:never\nRUN true\n"}
    version = create(workspace, owner, {"name": "nope", "build": {"path": "."}}, files=files)
    with pytest.raises(builds.BuildFailed) as failed:
        builds.ensure_built(version, "docker", workspace=workspace)
    assert "studio/not-here:never" in failed.value.build.error
    assert "never pulls" in failed.value.build.error
    # It offers what the engine does have, the configured base image first.
    assert f"This engine has: {settings.STUDIO_BASE_IMAGE}" in failed.value.build.error


def test_a_missing_configured_base_image_is_not_offered_as_the_fix(workspace, owner, engine, settings):
    settings.STUDIO_BASE_IMAGE = "python:3.11-slim-bookworm-not-here"
    version = create(workspace, owner, {"name": "img", "image": settings.STUDIO_BASE_IMAGE})
    with pytest.raises(builds.BuildFailed) as failed:
        builds.ensure_built(version, "docker", workspace=workspace)
    error = failed.value.build.error
    assert "(the configured STUDIO_BASE_IMAGE) is not in this Docker engine" in error
    assert "or use python:3.11-slim-bookworm-not-here" not in error
    assert "studio/base:bookworm" in error and "Set STUDIO_BASE_IMAGE to one of them" in error
