"""Environment definitions in the Azure ML CLI v2 environment schema, checked.

The same function reads a YAML file, a JSON API body, the browser form and the curated catalog,
so all four accept and refuse the same things with the same words. Keys:

    name, version, description, tags, image, conda_file, build: {path, dockerfile_path},
    os_type, inference_config (ignored, with a notice), plus Studio's pip_requirements,
    environment_variables, user_managed_dependencies and interpreter_path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from environments import conda, context
from environments.models import CURATED_PREFIX
from studio import versioning, yamlspec
from studio.tags import clean_tags

ALLOWED_KEYS = {
    "name",
    "version",
    "description",
    "tags",
    "image",
    "conda_file",
    "build",
    "os_type",
    "pip_requirements",
    "environment_variables",
    "user_managed_dependencies",
    "interpreter_path",
}
IGNORED_KEYS = {"inference_config", "properties", "datastore", "intellectual_property"}
BUILD_KEYS = {"path", "dockerfile_path", "dockerfile"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:@-]*$", re.IGNORECASE)


@dataclass
class Definition:
    """A checked environment definition, ready to be stored as a version."""

    name: str
    version: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    image: str = ""
    conda_file: str = ""
    pip_requirements: str = ""
    files: dict[str, bytes] | None = None  # a Docker build context
    dockerfile_path: str = ""
    environment_variables: dict[str, str] = field(default_factory=dict)
    os_type: str = "linux"
    user_managed: bool = False
    interpreter_path: str = ""
    notices: list[str] = field(default_factory=list)
    # Filled by parse(): what the backends install.
    requirements: list[str] = field(default_factory=list)
    python: str | None = None
    conda_normalised: dict | None = None

    @property
    def dockerfile(self) -> str:
        if self.files and self.dockerfile_path in self.files:
            return self.files[self.dockerfile_path].decode(errors="replace")
        return ""


def _err(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


def _text(value: Any, field_name: str, *, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _err(field_name, f"{field_name} must be text, not {type(value).__name__}.")
    text = str(value).strip()
    if max_length and len(text) > max_length:
        raise _err(field_name, f"{field_name} is longer than {max_length} characters.")
    return text


def _mapping(value: Any, field_name: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise _err(field_name, f"{field_name} must be a mapping of names to values.")
    out = {}
    for key, item in value.items():
        if isinstance(item, (dict, list)):
            raise _err(field_name, f"{field_name}.{key} must be a single value.")
        out[str(key).strip()] = "" if item is None else str(item)
    return out


def check_name(name: str, *, allow_curated: bool = False) -> str:
    if not name:
        raise _err("name", "Give the environment a name.")
    if not NAME.match(name):
        raise _err("name", "A name is 1–255 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    if not allow_curated and name.lower().startswith(CURATED_PREFIX.lower()):
        raise _err(
            "name",
            f"Names starting with '{CURATED_PREFIX}' are reserved for curated environments; choose another name "
            "(to change a curated environment, use 'New version from this one' and give it your own name).",
        )
    return name


def parse(
    data: dict,
    *,
    source: str = "spec",
    files: dict[str, bytes] | None = None,
    name: str | None = None,
    allow_curated: bool = False,
) -> Definition:
    """Check a definition mapping (and an uploaded build context) and return it, or raise a
    ValidationError keyed by field. `name`, when given, is the name from the URL."""
    if not isinstance(data, dict):
        raise _err("spec", f"{source}: expected a mapping of keys to values.")
    notices = yamlspec.check_keys(data, ALLOWED_KEYS, source=source, field="spec", ignored=IGNORED_KEYS)
    body_name = _text(data.get("name"), "name")
    if name and body_name and body_name != name:
        raise _err("name", f"The body names {body_name!r} but the address names {name!r}.")
    d = Definition(name=check_name(name or body_name, allow_curated=allow_curated), notices=notices)
    if data.get("version") not in (None, ""):
        d.version = versioning.validate_version(str(data["version"]))
    d.description = _text(data.get("description"), "description", max_length=2000)
    d.tags = clean_tags(data.get("tags"))
    d.image = _text(data.get("image"), "image", max_length=500)
    if d.image and not IMAGE.match(d.image):
        raise _err("image", f"{d.image!r} is not an image reference (e.g. python:3.11-slim or studio/base:bookworm).")
    d.os_type = (_text(data.get("os_type"), "os_type") or "linux").lower()
    if d.os_type != "linux":
        raise _err("os_type", "Studio builds and runs Linux environments only (os_type: linux).")
    d.environment_variables = _mapping(data.get("environment_variables"), "environment_variables")
    for key in d.environment_variables:
        if not ENV_VAR.match(key):
            raise _err("environment_variables", f"{key!r} is not a valid environment variable name.")
    _parse_dependencies(d, data, files)
    return d


def _parse_dependencies(d: Definition, data: dict, files: dict[str, bytes] | None) -> None:
    conda_file = data.get("conda_file")
    if isinstance(conda_file, dict):  # given inline as a mapping (JSON bodies, curated files)
        conda_file = yaml.safe_dump(dict(conda_file), sort_keys=False, default_flow_style=False)
    d.conda_file = _text(conda_file, "conda_file")
    pip = data.get("pip_requirements")
    if isinstance(pip, list):
        pip = "\n".join(str(p) for p in pip)
    d.pip_requirements = _text(pip, "pip_requirements")
    build = data.get("build")
    managed = data.get("user_managed_dependencies", False)
    if not isinstance(managed, bool):
        raise _err("user_managed_dependencies", "user_managed_dependencies is true or false.")
    d.user_managed = managed
    d.interpreter_path = _text(data.get("interpreter_path"), "interpreter_path", max_length=500)

    if build not in (None, "", {}):
        if d.image or d.conda_file or d.pip_requirements:
            raise _err("build", "Give either a build context or an image (with a conda file or pip requirements).")
        _parse_build(d, build, files)
    elif files:
        raise _err("build", "A build context was uploaded but the definition has no 'build:' section.")
    elif not d.image:
        if d.conda_file or d.pip_requirements:
            what = "conda_file" if d.conda_file else "pip_requirements"
            raise _err("image", f"{what} needs an image to install into: add image: (e.g. python:3.11-slim-bookworm).")
        raise _err("image", "Give an image, an image with a conda file or pip requirements, or a build context.")
    if d.conda_file and d.pip_requirements:
        raise _err(
            "pip_requirements", "Give a conda file or pip requirements, not both (a conda file has a pip: list)."
        )
    if d.user_managed:
        if d.conda_file or d.pip_requirements or d.files:
            raise _err("user_managed_dependencies", "User-managed environments install nothing: drop the dependencies.")
        if not d.interpreter_path.startswith("/"):
            raise _err("interpreter_path", "Give the absolute path of the Python to use, e.g. /usr/bin/python3.")
    elif d.interpreter_path:
        raise _err("interpreter_path", "interpreter_path goes with user_managed_dependencies: true.")
    if d.conda_file:
        parsed, notices = conda.parse_conda(d.conda_file)
        d.notices += notices
        d.conda_normalised = conda.normalised(parsed)
        translation = conda.translate(parsed)
        d.python = translation.python
        d.requirements = conda.check_pip_lines(translation.requirements, field_name="conda_file", where="conda file")
        d.notices += [f"conda file: {n}" for n in translation.notices]
    elif d.pip_requirements:
        d.requirements = conda.check_pip_lines(
            d.pip_requirements.splitlines(), field_name="pip_requirements", where="pip requirements"
        )
        if not d.requirements:
            raise _err("pip_requirements", "The pip requirements list no package.")


def _parse_build(d: Definition, build: Any, files: dict[str, bytes] | None) -> None:
    if not isinstance(build, dict):
        raise _err("build", "build must be a mapping: {path: <folder>, dockerfile_path: Dockerfile}.")
    unknown = set(build) - BUILD_KEYS
    if unknown:
        raise _err("build", f"Unknown key(s) in build: {', '.join(sorted(map(str, unknown)))}.")
    d.dockerfile_path = _text(build.get("dockerfile_path"), "build") or "Dockerfile"
    inline = build.get("dockerfile")
    if inline not in (None, ""):
        if files:
            raise _err("build", "Give build.dockerfile or an uploaded context, not both.")
        files = {d.dockerfile_path: _text(inline, "build").encode() + b"\n"}
    if files is None:
        raise _err(
            "build",
            "build.path names a folder on your machine: upload it (a zip in the multipart part 'context', "
            "or a folder in the browser), or give build.dockerfile.",
        )
    d.dockerfile_path = context.check(files, d.dockerfile_path)
    d.files = files


def to_mapping(version) -> dict:
    """A stored version as the mapping a YAML file or API body would give (Studio reads it back)."""
    out: dict[str, Any] = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/environment.schema.json",
        "name": version.environment.name,
        "version": version.version,
    }
    if version.description:
        out["description"] = version.description
    if version.tags:
        out["tags"] = dict(version.tags)
    if version.image:
        out["image"] = version.image
    if version.conda_file:
        out["conda_file"] = version.conda_file
    if version.pip_requirements:
        out["pip_requirements"] = version.pip_requirements
    if version.context_files:
        out["build"] = {"path": ".", "dockerfile_path": version.dockerfile_path}
    if version.environment_variables:
        out["environment_variables"] = dict(version.environment_variables)
    if version.user_managed:
        out["user_managed_dependencies"] = True
        out["interpreter_path"] = version.interpreter_path
    out["os_type"] = version.os_type
    return out


class _BlockDumper(yaml.SafeDumper):
    pass


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value.rstrip() + "\n" if style else value, style=style)


_BlockDumper.add_representer(str, _str)


def to_yaml(version, *, conda_file_name: str | None = None) -> str:
    """The definition as YAML; with `conda_file_name`, the conda file is referred to by that name
    (as in an Azure ML folder) instead of being written inline."""
    mapping = to_mapping(version)
    if conda_file_name and "conda_file" in mapping:
        mapping["conda_file"] = conda_file_name
    return yaml.dump(mapping, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
