"""Environment definitions in the Azure ML CLI v2 environment schema, checked: one schema
(`EnvironmentSpec`) for a YAML file, a JSON API body (and its OpenAPI document), the browser form
and the curated catalog, so all four accept and refuse the same things with the same words. Keys:

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
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from environments import conda, context
from environments.models import CURATED_PREFIX
from studio import versioning
from studio.schema import SpecSerializer, Tags, Text

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


class CondaFileField(Text):
    """The conda file's text; a mapping written inline (JSON bodies, curated files) is dumped as YAML."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, dict):
            data = yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)
        return super().to_internal_value(data)


class PipRequirementsField(Text):
    """requirements.txt lines, as text or a list."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, list):
            data = "\n".join(str(p) for p in data)
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class VariablesField(serializers.Field):
    """NAME: value pairs (values read as text)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data in (None, ""):
            return True, {}
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        key = self.field_name
        if not isinstance(data, dict):
            raise serializers.ValidationError(f"{key} must be a mapping of names to values.")
        out = {}
        for name, item in data.items():
            if isinstance(item, (dict, list)):
                raise serializers.ValidationError(f"{key}.{name} must be a single value.")
            out[str(name).strip()] = "" if item is None else str(item)
        for name in out:
            if not ENV_VAR.match(name):
                raise serializers.ValidationError(f"{name!r} is not a valid environment variable name.")
        return out

    def to_representation(self, value: Any) -> Any:
        return value


class BuildSection(serializers.Serializer):
    """A Docker build context: the folder is uploaded (multipart part 'context'), or the
    Dockerfile given inline."""

    path = serializers.CharField(required=False, help_text="The build context folder (uploaded as a zip)")
    dockerfile_path = serializers.CharField(required=False, help_text="Inside the context; default Dockerfile")
    dockerfile = serializers.CharField(required=False, help_text="The Dockerfile's text, instead of a context")


@extend_schema_field(BuildSection)
class BuildField(serializers.Field):
    """`build:` checked for its keys; the context itself is checked with the uploaded files."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data in (None, "", {}):
            return True, None
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if not isinstance(data, dict):
            raise serializers.ValidationError("build must be a mapping: {path: <folder>, dockerfile_path: Dockerfile}.")
        unknown = set(data) - BUILD_KEYS
        if unknown:
            raise serializers.ValidationError(f"Unknown key(s) in build: {', '.join(sorted(map(str, unknown)))}.")
        out = {}
        for key in BUILD_KEYS & set(data):
            value = data[key]
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
                raise serializers.ValidationError(f"build.{key} must be text, not {type(value).__name__}.")
            out[key] = "" if value is None else str(value).strip()
        return out

    def to_representation(self, value: Any) -> Any:
        return value


class EnvironmentSpec(SpecSerializer):
    """An environment definition (Azure ML CLI v2 environment YAML, or the same object as JSON):
    an image; an image with a conda file or pip requirements; or a Docker build context."""

    ignored_keys = frozenset(IGNORED_KEYS)
    unknown_keys_on = "spec"
    noun = "environment"

    name = Text(help_text="1–255 letters, digits, '.', '_' or '-' (from the address when posting a version)")
    version = Text(help_text="Auto-numbered unless given")
    description = Text(max_length=2000)
    tags = Tags()
    image = Text(max_length=500, help_text="A base image, e.g. python:3.11-slim-bookworm")
    conda_file = CondaFileField(help_text="The conda file's text (a YAML file's path is read by the CLI)")
    pip_requirements = PipRequirementsField(help_text="Studio: requirements.txt lines, instead of a conda file")
    build = BuildField()
    os_type = Text(help_text="linux")
    environment_variables = VariablesField()
    user_managed_dependencies = serializers.BooleanField(
        required=False, error_messages={"invalid": "user_managed_dependencies is true or false."}
    )
    interpreter_path = Text(max_length=500, help_text="With user_managed_dependencies: the Python to use")

    def validate_version(self, value: str) -> str:
        try:
            return versioning.validate_version(value) if value else value
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["version"]) from None

    def validate_image(self, value: str) -> str:
        if value and not IMAGE.match(value):
            raise serializers.ValidationError(
                f"{value!r} is not an image reference (e.g. python:3.11-slim or studio/base:bookworm)."
            )
        return value

    def validate_os_type(self, value: str) -> str:
        if (value or "linux").lower() != "linux":
            raise serializers.ValidationError("Studio builds and runs Linux environments only (os_type: linux).")
        return "linux"


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
    """Check a definition mapping (and an uploaded build context) against EnvironmentSpec and the
    rules across its keys, and return it, or raise a ValidationError keyed by field. `name`, when
    given, is the name from the URL."""
    if not isinstance(data, dict):
        raise _err("spec", f"{source}: expected a mapping of keys to values.")
    schema = EnvironmentSpec(data=data, context={"source": source})
    values = schema.clean()
    body_name = values.get("name", "")
    if name and body_name and body_name != name:
        raise _err("name", f"The body names {body_name!r} but the address names {name!r}.")
    d = Definition(name=check_name(name or body_name, allow_curated=allow_curated), notices=schema.notices(data))
    d.version = values.get("version") or None
    d.description = values.get("description", "")
    d.tags = values.get("tags", {})
    d.image = values.get("image", "")
    d.os_type = values.get("os_type") or "linux"
    d.environment_variables = values.get("environment_variables", {})
    d.conda_file = values.get("conda_file", "")
    d.pip_requirements = values.get("pip_requirements", "")
    d.user_managed = values.get("user_managed_dependencies", False)
    d.interpreter_path = values.get("interpreter_path", "")
    _parse_dependencies(d, values.get("build"), files)
    return d


def _parse_dependencies(d: Definition, build: dict | None, files: dict[str, bytes] | None) -> None:
    if build:
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


def _parse_build(d: Definition, build: dict, files: dict[str, bytes] | None) -> None:
    d.dockerfile_path = build.get("dockerfile_path") or "Dockerfile"
    inline = build.get("dockerfile")
    if inline:
        if files:
            raise _err("build", "Give build.dockerfile or an uploaded context, not both.")
        files = {d.dockerfile_path: inline.encode() + b"\n"}
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
