"""Small builders for environment tests: definitions as the API would receive them."""

from __future__ import annotations

import io
import threading
import zipfile

from django.db import connection

from environments import builds, services, spec
from studio import logs

CONDA = """name: tiny
channels: [conda-forge]
dependencies:
  - python=3.11
  - pip
  - pip:
      - six==1.16.0
"""


def conda_definition(name="env-a", conda=CONDA, image="studio/base:bookworm", **extra) -> dict:
    return {"name": name, "image": image, "conda_file": conda, **extra}


def create(workspace, actor, data: dict, files=None):
    definition = spec.parse(data, files=files)
    return services.do_create_environment_version(workspace, actor=actor, definition=definition)


def make_zip(entries: dict[str, bytes | str], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in entries.items():
            z.writestr(name, content)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            z.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def build_while_watching(version, backend: str, *, workspace, actor):
    """Run `ensure_built` in a thread and sample the stored log's size while it runs. Returns the
    build, the lines passed to `log`, and the sizes seen (a live log grows before the end)."""
    lines: list[str] = []
    sizes: list[int] = []
    done = threading.Event()
    result: dict = {}

    def run():
        try:
            result["build"] = builds.ensure_built(version, backend, lines.append, workspace=workspace, actor=actor)
        finally:
            connection.close()
            done.set()

    worker = threading.Thread(target=run)
    worker.start()
    while not done.wait(0.05):
        row = version.builds.first()
        if row is not None:
            sizes.append(logs.size(row.log_stream))
    worker.join()
    assert "build" in result, "the build raised; see the thread's exception above"
    return result["build"], lines, sizes
