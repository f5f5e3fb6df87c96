"""The spec hash: sha256 over what decides a build's result, and nothing else.

In: the image, the conda file's channels and dependencies (in their order; its `name` is not),
the pip requirement lines (in order, comments dropped), every build-context file's path and
bytes, the Dockerfile's path, the environment variables that steer a build (PIP_* and UV_*),
user-managed interpreter path, OS type. Out: name, version, description, tags, run-time-only
environment variables. Two definitions with equal content therefore share one build.
"""

from __future__ import annotations

import hashlib
import json

from compute.backends.base import BUILD_VARIABLE
from environments import context

FORMAT = 1


def build_variables(environment_variables: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(environment_variables.items()) if BUILD_VARIABLE.match(k)}


def spec_hash(definition) -> str:
    """The hash of a spec.Definition."""
    payload = {
        "format": FORMAT,
        "os_type": definition.os_type,
        "image": definition.image,
        "conda": definition.conda_normalised,
        "pip": definition.requirements if definition.pip_requirements else None,
        "context": [[p, h] for p, _, h in context.manifest(definition.files)] if definition.files else None,
        "dockerfile_path": definition.dockerfile_path if definition.files else None,
        "build_env": build_variables(definition.environment_variables),
        "user_managed": definition.interpreter_path if definition.user_managed else None,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()
