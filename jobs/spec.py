"""The command-job specification: Azure ML CLI v2 `command` job YAML, or the same object as JSON.

`parse_job_spec` validates a mapping and returns a `JobSpec`; `render_command` substitutes
`${{inputs.x}}` / `${{outputs.y}}` with shell-quoted values at run time, so an input value can
never inject shell syntax. Optional sections `$[[ ... ]]` are kept only when every input they
mention was given.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs import io_types
from studio.schema import SpecSerializer, Tags, Text, did_you_mean
from studio.yamlspec import check_keys, load_mapping

IGNORED_KEYS = {"identity", "services", "distribution", "queue_settings", "properties", "status", "is_deterministic"}
DATA_TYPES = ("uri_file", "uri_folder", "mltable")
LITERAL_TYPES = ("string", "integer", "number", "boolean")
OUTPUT_TYPES = ("uri_folder", "uri_file", "mlflow_model", "custom_model")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}\Z")
PLACEHOLDER = re.compile(r"\$\{\{\s*([A-Za-z_]+)\.([A-Za-z0-9_]+)\s*\}\}")
OPTIONAL = re.compile(r"\$\[\[(.*?)\]\]", re.S)
RESERVED_ENV = {"MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_TRACKING_TOKEN", "MLFLOW_EXPERIMENT_NAME"}
MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "ki": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mi": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gi": 1024**3,
    "t": 1024**4,
    "tb": 1024**4,
    "ti": 1024**4,
}
MAX_TIMEOUT = 30 * 24 * 3600


@dataclass
class JobSpec:
    command: str
    environment: str | dict
    compute: str = "local"
    code: str | None = None
    name: str = ""
    display_name: str = ""
    description: str = ""
    experiment_name: str = "Default"
    tags: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    environment_variables: dict[str, str] = field(default_factory=dict)
    timeout: int | None = None
    max_retries: int = 0
    resources: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def _error(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


def _line(data: dict, key: str) -> str:
    line = getattr(data, "lines", {}).get(key)
    return f" (line {line})" if line else ""


def load_spec_text(text: str, *, source: str = "job YAML") -> dict:
    """Parse the `spec` part of a multipart submission: YAML (which includes JSON)."""
    return load_mapping(text, source=source)


def parse_memory(value: Any, field_name: str = "resources.memory") -> int:
    """`"2g"`, `"512Mi"`, `1073741824` -> bytes."""
    if isinstance(value, bool):
        raise _error(field_name, "Give memory as bytes or with a unit, e.g. 512m or 2g.")
    if isinstance(value, (int, float)):
        number, unit = float(value), ""
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]{0,2})\s*", str(value))
        if not match or match[2].lower() not in MEMORY_UNITS:
            raise _error(field_name, f"{value!r} is not a memory size: use e.g. 512m, 2g or a number of bytes.")
        number, unit = float(match[1]), match[2].lower()
    result = int(number * MEMORY_UNITS[unit])
    if result < 6 * 1024 * 1024:
        raise _error(field_name, "A memory limit must be at least 6 MiB.")
    return result


def _parse_literal(name: str, value: Any, declared: str | None = None) -> dict:
    kind = declared
    if kind is None:
        if isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, int):
            kind = "integer"
        elif isinstance(value, float):
            kind = "number"
        else:
            kind = "string"
    try:
        if kind == "integer":
            value = int(value)
        elif kind == "number":
            value = float(value)
        elif kind == "boolean":
            value = value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")
        else:
            value = "" if value is None else str(value)
    except (TypeError, ValueError):
        raise _error(f"inputs.{name}", f"{value!r} is not a valid {kind}.") from None
    return {"type": kind, "value": value}


def _parse_inputs(raw: Any) -> dict[str, dict]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise _error("inputs", "inputs must be a mapping of names to values.")
    out: dict[str, dict] = {}
    for name, value in raw.items():
        name = str(name)
        if not IDENTIFIER.match(name):
            raise _error("inputs", f"{name!r} is not a valid input name (letters, digits and '_').")
        if isinstance(value, dict):
            kind = str(value.get("type", "")).strip() or ("uri_folder" if "path" in value else "string")
            if kind in DATA_TYPES or kind in io_types.INPUT_TYPES:
                path = str(value.get("path") or "").strip()
                if not path:
                    raise _error(f"inputs.{name}", f"A {kind} input needs a path (azureml:name:version or a URI).")
                mode = str(value.get("mode") or "ro_mount")
                if mode not in ("ro_mount", "download", "direct", "eval_mount", "eval_download"):
                    raise _error(f"inputs.{name}", f"Unknown mode {mode!r}: use ro_mount, download or direct.")
                out[name] = {"type": kind, "path": path, "mode": mode}
            elif kind in LITERAL_TYPES:
                literal = value.get("value", value.get("default"))
                out[name] = _parse_literal(name, literal, kind)
            else:
                raise _error(
                    f"inputs.{name}",
                    f"Unsupported input type {kind!r}: use "
                    f"{', '.join(DATA_TYPES + tuple(io_types.INPUT_TYPES) + LITERAL_TYPES)}.",
                )
        elif isinstance(value, (list, tuple)):
            raise _error(f"inputs.{name}", "An input is a single value, not a list.")
        else:
            out[name] = _parse_literal(name, value)
    return out


def _parse_outputs(raw: Any) -> dict[str, dict]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise _error("outputs", "outputs must be a mapping of names to output definitions.")
    out: dict[str, dict] = {}
    for name, value in raw.items():
        name = str(name)
        if not IDENTIFIER.match(name):
            raise _error("outputs", f"{name!r} is not a valid output name (letters, digits and '_').")
        value = value or {}
        if not isinstance(value, dict):
            raise _error(f"outputs.{name}", "An output is a mapping, e.g. {type: uri_folder}.")
        kind = str(value.get("type") or "uri_folder")
        if kind not in OUTPUT_TYPES and kind not in io_types.OUTPUT_TYPES:
            raise _error(f"outputs.{name}", f"Unsupported output type {kind!r}: use {', '.join(OUTPUT_TYPES)}.")
        item = {"type": kind, "mode": str(value.get("mode") or "rw_mount")}
        if value.get("path"):
            item["path"] = str(value["path"])
        if value.get("name"):
            item["name"] = str(value["name"])
            if value.get("version"):
                item["version"] = str(value["version"])
        out[name] = item
    return out


def _parse_str_map(raw: Any, field_name: str, *, env: bool = False) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise _error(field_name, f"{field_name} must be a mapping of names to values.")
    out = {}
    for key, value in raw.items():
        key = str(key).strip()
        if env:
            if not IDENTIFIER.match(key):
                raise _error(field_name, f"{key!r} is not a valid variable name.")
            if key in RESERVED_ENV:
                raise _error(field_name, f"{key} is set by Studio for every job and cannot be overridden.")
        if isinstance(value, (dict, list)):
            raise _error(field_name, f"The value of {key!r} must be text or a number.")
        out[key] = "" if value is None else (json.dumps(value) if isinstance(value, bool) else str(value))
    return out


def _parse_resources(raw: Any) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise _error("resources", "resources must be a mapping.")
    check_keys(
        raw,
        {"instance_count", "cpu", "memory", "instance_type", "shm_size"},
        source="resources",
        field="resources",
        ignored={"properties", "docker_args", "locations"},
    )
    out: dict[str, Any] = {}
    if raw.get("instance_count") not in (None, 1, "1"):
        raise _error("resources.instance_count", "Studio runs command jobs on one node: instance_count must be 1.")
    if raw.get("cpu") not in (None, ""):
        try:
            cpu = float(raw["cpu"])
        except (TypeError, ValueError):
            raise _error("resources.cpu", "cpu is a number of cores, e.g. 0.5 or 2.") from None
        if not 0.01 <= cpu <= 512:
            raise _error("resources.cpu", "cpu must be between 0.01 and 512 cores.")
        out["cpu"] = cpu
    if raw.get("memory") not in (None, ""):
        out["memory"] = parse_memory(raw["memory"])
    if raw.get("shm_size"):
        out["shm_size"] = parse_memory(raw["shm_size"], "resources.shm_size")
    if raw.get("instance_type"):
        out["instance_type"] = str(raw["instance_type"])
    return out


def _parse_limits(raw: Any) -> tuple[int | None, int]:
    if raw in (None, ""):
        return None, 0
    if not isinstance(raw, dict):
        raise _error("limits", "limits must be a mapping, e.g. {timeout: 3600}.")
    check_keys(raw, {"timeout", "max_retries"}, source="limits", field="limits")
    timeout = raw.get("timeout")
    if timeout not in (None, ""):
        if isinstance(timeout, bool):
            raise _error("limits.timeout", "timeout is a number of seconds.")
        try:
            timeout = int(timeout)
        except (TypeError, ValueError):
            raise _error("limits.timeout", "timeout is a number of seconds.") from None
        if not 1 <= timeout <= MAX_TIMEOUT:
            raise _error("limits.timeout", f"timeout must be between 1 and {MAX_TIMEOUT} seconds.")
    else:
        timeout = None
    retries = raw.get("max_retries") or 0
    try:
        retries = int(retries)
    except (TypeError, ValueError):
        raise _error("limits.max_retries", "max_retries is a whole number.") from None
    if not 0 <= retries <= 3:
        raise _error("limits.max_retries", "max_retries must be between 0 and 3.")
    return timeout, retries


INPUT_KEYS = {"type", "path", "mode", "default", "optional", "description", "min", "max", "enum", "value", "datastore"}
OUTPUT_KEYS = {"type", "path", "mode", "name", "version", "description", "asset_name", "asset_version"}


class JobInput(serializers.Serializer):
    """One input: a literal (`lr: 0.1`) or a mapping: data (`type: uri_folder, path: …, mode`)
    or a typed literal (`type: number, default: 0.1`)."""

    type = serializers.CharField(required=False, help_text="uri_file, uri_folder, mltable, string, integer, number…")
    path = serializers.CharField(required=False, help_text="azureml:name:version, a datastore URI or a URL")
    mode = serializers.CharField(required=False, help_text="ro_mount (default), download or direct")
    default = serializers.JSONField(required=False)
    value = serializers.JSONField(required=False)
    optional = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False)
    min = serializers.JSONField(required=False)
    max = serializers.JSONField(required=False)
    enum = serializers.ListField(required=False)
    datastore = serializers.CharField(required=False)


class JobOutput(serializers.Serializer):
    """One output folder or file; `name` (and `version`) register it as a data asset or model."""

    type = serializers.CharField(required=False, help_text="uri_folder (default), uri_file, mlflow_model, custom_model")
    path = serializers.CharField(required=False)
    mode = serializers.CharField(required=False, help_text="rw_mount (default) or upload")
    name = serializers.CharField(required=False)
    version = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    asset_name = serializers.CharField(required=False)
    asset_version = serializers.CharField(required=False)


class JobLimits(serializers.Serializer):
    timeout = serializers.IntegerField(required=False, help_text=f"Seconds, 1 to {MAX_TIMEOUT}")
    max_retries = serializers.IntegerField(required=False, help_text="0 to 3")


class JobResources(serializers.Serializer):
    instance_count = serializers.IntegerField(required=False, help_text="1 (one node)")
    cpu = serializers.FloatField(required=False, help_text="Cores, 0.01 to 512")
    memory = serializers.CharField(required=False, help_text="e.g. 512m, 2g or bytes")
    shm_size = serializers.CharField(required=False)
    instance_type = serializers.CharField(required=False)


class Parsed(serializers.Field):
    """A section read by one of this module's parsers; its errors keep their dotted keys
    (`inputs.lr`, `limits.timeout`)."""

    def __init__(self, parse: Callable[[Any], Any], **kwargs: Any) -> None:
        self.parse = parse
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data == "":
            return True, self.parse(None)
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Any:
        try:
            return self.parse(data)
        except ValidationError as exc:
            prefix = f"{self.field_name}."
            inner = {k[len(prefix) :]: v for k, v in exc.message_dict.items() if k.startswith(prefix)}
            own = [m for k, v in exc.message_dict.items() if not k.startswith(prefix) for m in v]
            raise serializers.ValidationError(own if own else inner) from None

    def to_representation(self, value: Any) -> Any:
        return value


def _check_entries(raw: Any, section: str, allowed: set[str]) -> None:
    """Each mapping entry of inputs/outputs uses only its keys (named with line and near miss)."""
    if not isinstance(raw, dict):
        return
    for name, entry in raw.items():
        if isinstance(entry, dict):
            unknown = [k for k in entry if k not in allowed]
            if unknown:
                key = unknown[0]
                raise _error(
                    f"{section}.{name}",
                    f"unknown key {key!r}{_line(entry, key)} in {section}.{name}.{did_you_mean(key, allowed)} "
                    f"Allowed: {', '.join(sorted(allowed))}.",
                )


def _inputs(raw: Any) -> dict[str, dict]:
    _check_entries(raw, "inputs", INPUT_KEYS)
    return _parse_inputs(raw)


def _outputs(raw: Any) -> dict[str, dict]:
    _check_entries(raw, "outputs", OUTPUT_KEYS)
    return _parse_outputs(raw)


def _section(documented: Any, parse: Callable[[Any], Any]) -> Parsed:
    """A Parsed field described in the OpenAPI document as `documented` (a class of its own, as
    drf-spectacular keeps the description on the class)."""
    return extend_schema_field(documented)(type("Section", (Parsed,), {}))(parse)


def _variables(raw: Any) -> dict[str, str]:
    return _parse_str_map(raw, "environment_variables", env=True)


class CommandJobSpec(SpecSerializer):
    """A command job (Azure ML CLI v2 `command` job YAML, or the same object as JSON): the body of
    POST /jobs/ (or its multipart `spec` part, beside a `code` zip)."""

    ignored_keys = frozenset(IGNORED_KEYS)
    unknown_keys_on = "spec"
    noun = "command job"

    type = Text(help_text="command (sweep jobs: see the sweep schema)")
    name = Text()
    display_name = Text()
    description = Text()
    experiment_name = Text(help_text="Default when not given")
    command = Text(help_text="The shell command; ${{inputs.x}} and ${{outputs.y}} are filled in")
    environment = serializers.JSONField(help_text="azureml:name:version, name@latest, or an inline definition")
    compute = serializers.JSONField(required=False, help_text="azureml:<name>; default: local")
    code = serializers.JSONField(required=False, help_text="A code id from POST /codes/ (a local folder in YAML)")
    tags = Tags()
    inputs = _section(serializers.DictField(child=JobInput()), _inputs)
    outputs = _section(serializers.DictField(child=JobOutput()), _outputs)
    environment_variables = _section({"type": "object", "additionalProperties": {"type": "string"}}, _variables)
    limits = _section(JobLimits, _parse_limits)
    resources = _section(JobResources, _parse_resources)


def _strip_azureml(value: str) -> str:
    return value[len("azureml:") :] if value.startswith("azureml:") else value


def parse_job_spec(data: dict, *, source: str = "job") -> JobSpec:
    """Validate a job mapping (YAML-loaded or JSON) and normalise it; errors name their field."""
    if not isinstance(data, dict):
        raise _error("spec", "A job is a mapping of keys to values.")
    schema = CommandJobSpec(data=data, context={"source": source})
    values = schema.clean()
    kind = data.get("type", "command")
    if kind != "command":
        raise _error("type", f"Studio runs command jobs; type {kind!r}{_line(data, 'type')} is not supported.")
    command = data.get("command")
    if not isinstance(command, str) or not command.strip():
        raise _error("command", "A command is required, e.g. python train.py.")
    environment = data.get("environment")
    if isinstance(environment, str):
        environment = environment.strip()
    if not environment or not isinstance(environment, (str, dict)):
        raise _error(
            "environment", "An environment is required: azureml:name:version, name@latest, or an inline definition."
        )
    compute = data.get("compute") or "local"
    if not isinstance(compute, str):
        raise _error("compute", "compute is a name, e.g. azureml:cpu-cluster.")
    code = data.get("code")
    if code is not None and not isinstance(code, str):
        raise _error("code", "code is a path (in YAML) or a code id returned by POST /codes/.")
    timeout, retries = values.get("limits") or (None, 0)
    spec = JobSpec(
        command=command.strip(),
        environment=environment,
        compute=_strip_azureml(compute.strip()),
        code=code.strip() if isinstance(code, str) and code.strip() else None,
        name=values.get("name", ""),
        display_name=values.get("display_name", ""),
        description=values.get("description", ""),
        experiment_name=values.get("experiment_name") or "Default",
        tags=values.get("tags", {}),
        inputs=values.get("inputs") or {},
        outputs=values.get("outputs") or {},
        environment_variables=values.get("environment_variables") or {},
        timeout=timeout,
        max_retries=retries,
        resources=values.get("resources") or {},
        notices=schema.notices(data),
    )
    check_placeholders(spec.command, spec.inputs, spec.outputs)
    return spec


def check_placeholders(command: str, inputs: dict, outputs: dict) -> None:
    """Every `${{inputs.x}}` outside `$[[...]]` must name a given input; every `${{outputs.y}}` an output."""
    required = OPTIONAL.sub("", command)
    for match in PLACEHOLDER.finditer(command):
        group, name = match[1], match[2]
        if group == "inputs":
            if name not in inputs and match[0] in required:
                raise _error("command", f"The command uses ${{{{inputs.{name}}}}} but the job has no input {name!r}.")
        elif group == "outputs":
            if name not in outputs:
                raise _error("command", f"The command uses ${{{{outputs.{name}}}}} but the job has no output {name!r}.")
        else:
            raise _error(
                "command", f"${{{{{group}.{name}}}}} is not supported: use ${{{{inputs.x}}}} or ${{{{outputs.y}}}}."
            )


def literal_text(item: dict) -> str:
    value = item.get("value")
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


def render_command(command: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    """Fill placeholders with shell-quoted values. `inputs`/`outputs` map names to the text a
    placeholder stands for (a literal value or a path); missing optional inputs drop their section."""

    def keep_optional(match: re.Match) -> str:
        body = match[1]
        names = [m[2] for m in PLACEHOLDER.finditer(body) if m[1] == "inputs"]
        return body if all(n in inputs for n in names) else ""

    command = OPTIONAL.sub(keep_optional, command)

    def substitute(match: re.Match) -> str:
        group, name = match[1], match[2]
        source = inputs if group == "inputs" else outputs
        return shlex.quote(source[name])

    return PLACEHOLDER.sub(substitute, command)


def spec_to_dict(job) -> dict:
    """The job as the same object a CLI YAML or JSON body would give (for clone and the API)."""
    out: dict[str, Any] = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json",
        "type": "command",
        "name": job.name,
        "display_name": job.display_name,
        "experiment_name": job.experiment.name,
        "description": job.description,
        "command": job.command,
        "code": job.code.hash if job.code_id else None,
        "environment": job.environment_label,
        "compute": f"azureml:{job.compute_name}",
        "inputs": {k: (v["value"] if "value" in v else v) for k, v in job.inputs.items()},
        "outputs": job.outputs,
        "environment_variables": job.environment_variables,
        "tags": job.tags,
    }
    limits = {}
    if job.timeout_seconds:
        limits["timeout"] = job.timeout_seconds
    if job.max_retries:
        limits["max_retries"] = job.max_retries
    if limits:
        out["limits"] = limits
    if job.resources:
        out["resources"] = dict(job.resources)
    return {k: v for k, v in out.items() if v not in (None, "", {}, [])}
