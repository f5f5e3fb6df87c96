"""The venv backend does not use an environment's image, and says so: in the build log and on the
environment page."""

from __future__ import annotations

import sys

import pytest

from compute.backends import get_backend
from environments import builds
from studio import logs
from tests.conftest import require
from tests.environments.helpers import conda_definition, create

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_venv_build_says_it_uses_this_machines_python_not_the_image(workspace, owner, client):
    ok, why = get_backend("venv").available()
    require(ok, f"uv ({why})")
    version = create(workspace, owner, {"name": "plain", "image": "studio/base:bookworm"})
    build = builds.ensure_built(version, "venv", workspace=workspace)
    python = ".".join(str(n) for n in sys.version_info[:3])
    log = logs.read_all(build.log_stream)
    assert f"The venv backend uses this machine's Python {python}" in log
    assert "the image studio/base:bookworm applies on docker targets" in log
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/environments/plain/versions/1/").content.decode()
    assert "The venv backend uses this machine&#x27;s Python 3." in page or "machine's Python 3." in page
    assert "the image applies on docker targets" in page


def test_the_page_names_the_python_the_conda_file_pins(workspace, owner, client):
    create(workspace, owner, conda_definition(name="pinned", conda="dependencies:\n  - python=3.12\n"))
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/environments/pinned/versions/1/").content.decode()
    assert "Python 3.12;" in page
