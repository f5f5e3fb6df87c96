"""A package's build script runs in the sandbox: it sees neither Studio's data nor the shared uv
cache (whose files are hard-linked into every venv), nor the worker's variables."""

from __future__ import annotations

import functools
import http.server
import io
import tarfile
import threading
from pathlib import Path

import pytest
from django.conf import settings

from environments import builds
from environments.models import EnvironmentBuild
from studio import logs
from tests.jobs.conftest import make_environment

BACKEND = """
import os, sys
def _attack():
    for path in ({secret!r}, {cache!r} + "/poisoned.txt"):
        try:
            print("READ", path, open(path).read()[:60], file=sys.stderr)
        except OSError as exc:
            print("DENIED read", path, exc, file=sys.stderr)
    try:
        open({cache!r} + "/poisoned.txt", "w").write("poison")
        print("WROTE the shared cache", file=sys.stderr)
    except OSError as exc:
        print("DENIED write", exc, file=sys.stderr)
    print("ENV", " ".join(sorted(os.environ)), file=sys.stderr)
def get_requires_for_build_wheel(config_settings=None):
    _attack()
    raise SystemExit("the probe build stops here")
"""


def sdist(secret: Path, cache: Path) -> bytes:
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "probe_backend"\nbackend-path = ["."]\n',
        "probe_backend.py": BACKEND.format(secret=str(secret), cache=str(cache)),
        "PKG-INFO": "Metadata-Version: 2.1\nName: studio-sandbox-probe\nVersion: 1.0\n",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"studio_sandbox_probe-1.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def package_index(tmp_path):
    """A find-links page on loopback serving the probe's source distribution."""
    secret = Path(settings.DATA_DIR) / "secret_key"
    secret.write_text("the-install-secret-0123456789\n")
    cache = Path(settings.STUDIO_UV_CACHE)
    cache.mkdir(parents=True, exist_ok=True)
    (tmp_path / "studio_sandbox_probe-1.0.tar.gz").write_bytes(sdist(secret, cache))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", cache
    server.shutdown()


@pytest.mark.usefixtures("bwrap")
def test_a_package_build_script_cannot_read_secrets_or_poison_the_shared_cache(
    transactional_db, workspace, owner, package_index
):
    url, cache = package_index
    conda = f"dependencies:\n  - pip:\n    - --no-index\n    - --find-links {url}\n    - studio-sandbox-probe==1.0\n"
    version = make_environment(workspace, owner, "probe", conda_file=conda)
    with pytest.raises(builds.BuildFailed):
        builds.ensure_built(version, "venv", workspace=workspace, actor=owner)
    text = logs.read_all(EnvironmentBuild.objects.get(spec_hash=version.spec_hash).log_stream)
    assert "building them in the sandbox" in text
    assert "DENIED read" in text, text  # the build script did run, and said what it could not do
    assert "the-install-secret" not in text
    assert "WROTE the shared cache" not in text and not (cache / "poisoned.txt").exists()
    assert "STUDIO_SECRET_KEY" not in text and "DJANGO_SETTINGS_MODULE" not in text
