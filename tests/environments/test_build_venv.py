"""Real venv builds with uv: a tiny requirement set, its log streaming, the cache hit after it,
and a failed build's headline. PyPI is reached for real (six is 11 KB)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from compute.backends import get_backend
from environments import builds
from environments.models import BuildStatus
from studio import logs
from tests.conftest import require
from tests.environments.helpers import build_while_watching, conda_definition, create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def venv_backend():
    ok, why = get_backend("venv").available()
    require(ok, f"uv ({why})")


def test_a_venv_build_streams_its_log_and_the_second_build_is_a_cache_hit(workspace, owner, venv_backend):
    version = create(workspace, owner, conda_definition())
    # While it builds, the stored log grows: a reader following build/<id> sees it live.
    build, lines, sizes = build_while_watching(version, "venv", workspace=workspace, actor=owner)

    assert build.status == BuildStatus.SUCCEEDED and not build.cache_hit
    assert "not been built" in build.reason
    assert "six==1.16.0" in build.resolved_packages
    python = Path(build.python)
    assert python.exists() and python.parent.parent.name == version.spec_hash
    assert any("six==1.16.0" in line for line in lines)
    assert any(0 < s for s in sizes[:-1]), "the log was not readable before the build ended"
    stored = logs.read_all(build.log_stream)
    assert "Succeeded" in stored and "six" in stored
    assert list(python.parent.parent.rglob("six*.pyc")), "bytecode was not compiled"

    started = time.perf_counter()
    again = builds.ensure_built(version, "venv", workspace=workspace, actor=owner)
    assert time.perf_counter() - started < 0.5
    assert again.pk == build.pk  # the version's own build answers: no new record

    twin = create(workspace, owner, conda_definition(name="env-b", description="same content"))
    hit = builds.ensure_built(twin, "venv", workspace=workspace, actor=owner)
    assert hit.cache_hit and hit.source_id == build.pk
    assert hit.reason == f"cache hit: same spec as env-a:1 (build #{build.pk})"
    assert hit.python == build.python and hit.resolved_packages == build.resolved_packages


def test_a_missing_venv_is_rebuilt_and_says_why(workspace, owner, venv_backend):
    import shutil

    version = create(workspace, owner, conda_definition())
    first = builds.ensure_built(version, "venv", workspace=workspace)
    shutil.rmtree(first.location)
    second = builds.ensure_built(version, "venv", workspace=workspace)
    assert second.pk != first.pk and not second.cache_hit
    assert "no longer on this host" in second.reason
    assert Path(second.python).exists()
    # The warm build's bytecode came from uv's cache (compiled once, linked since), and is valid.
    compiled = list(Path(second.location).rglob("six.cpython-*.pyc"))
    assert compiled and compiled[0].stat().st_nlink > 1
    inode = compiled[0].stat().st_ino
    subprocess.run([second.python, "-c", "import six"], check=True)
    assert compiled[0].stat().st_ino == inode  # Python found it valid: it did not write a new one


def test_a_failed_build_puts_the_failing_line_first(workspace, owner, venv_backend):
    version = create(
        workspace, owner, conda_definition(conda="dependencies:\n  - python=3.11\n  - pip:\n    - scikit-lern\n")
    )
    with pytest.raises(builds.BuildFailed) as failed:
        builds.ensure_built(version, "venv", workspace=workspace)
    build = failed.value.build
    build.refresh_from_db()
    assert build.status == BuildStatus.FAILED
    assert "scikit-lern" in build.error and "No matching distribution" in build.error
    assert "scikit-lern" in logs.read_all(build.log_stream)
    assert not Path(get_backend("venv").path_for(version.spec_hash)).exists()


def test_a_python_pin_this_host_lacks_is_a_clear_error(workspace, owner, venv_backend):
    version = create(workspace, owner, conda_definition(conda="dependencies:\n  - python=3.4\n"))
    with pytest.raises(builds.BuildFailed) as failed:
        builds.ensure_built(version, "venv", workspace=workspace)
    assert "Python 3.4" in failed.value.build.error and "not installed on this host" in failed.value.build.error
