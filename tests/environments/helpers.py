"""Small builders for environment tests: definitions as the API would receive them."""

from __future__ import annotations

import io
import zipfile

from environments import services, spec

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
