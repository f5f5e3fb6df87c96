"""The Azure ML command component (commandComponent.schema.json) as a mapping: its keys checked
against pipelines.schema.CommandComponentSpec, then parsed, validated and normalised into a
`ComponentSpec`. The same parser reads an inline `type: command` step of a pipeline (without name
and version). Errors name their field and, for YAML, the line."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from jobs.spec import IDENTIFIER, LITERAL_TYPES, OPTIONAL, PLACEHOLDER, _parse_literal, _parse_str_map
from pipelines.schema import CommandComponentSpec, ComponentInputSpec, ComponentOutputSpec
from studio.schema import refuse_unknown_keys
from studio.tags import clean_tags

SCHEMA = "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json"
DATA_TYPES = ("uri_file", "uri_folder", "mltable")
MODEL_TYPES = ("mlflow_model", "custom_model", "triton_model")
INPUT_TYPES = DATA_TYPES + MODEL_TYPES + LITERAL_TYPES
OUTPUT_TYPES = ("uri_folder", "uri_file", "mltable", "mlflow_model", "custom_model")
NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}\Z")


def error(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


def line_of(data: Any, key: str) -> str:
    line = getattr(data, "lines", {}).get(key)
    return f" (line {line})" if line else ""


@dataclass
class ComponentSpec:
    """A validated command component. `inputs`: name -> {"type", "optional", "default"?,
    "description"?}; `outputs`: name -> {"type"}; `code` is a code id (or a local path the CLI
    replaces); `environment` a reference or an inline definition."""

    command: str
    environment: str | dict
    name: str = ""
    version: str = ""
    display_name: str = ""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    inputs: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    is_deterministic: bool = True
    environment_variables: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("notices")
        return out

    @classmethod
    def from_dict(cls, data: dict) -> ComponentSpec:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def interface_hash(self, code_hash: str = "") -> str:
        """sha256 over what decides the component's behaviour (not its name, version or text)."""
        body = {
            "command": self.command,
            "environment": self.environment,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "environment_variables": self.environment_variables,
            "code": code_hash,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _bool(value: Any, field_name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise error(field_name, f"{value!r} is not true or false.")


def parse_inputs(raw: Any, *, prefix: str = "inputs") -> dict[str, dict]:
    """A component's declared inputs: `{type, default, optional, description}` each."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise error(prefix, "inputs must be a mapping of names to {type: ...} declarations.")
    out: dict[str, dict] = {}
    for name, value in raw.items():
        name = str(name)
        where = f"{prefix}.{name}"
        if not IDENTIFIER.match(name):
            raise error(prefix, f"{name!r}{line_of(raw, name)} is not a valid input name (letters, digits and '_').")
        if not isinstance(value, dict):
            raise error(where, f"Declare the input with a type, e.g. {{type: uri_folder}}{line_of(raw, name)}.")
        refuse_unknown_keys(ComponentInputSpec, value, source=f"input {name}", field=where)
        kind = str(value.get("type") or "").strip()
        if kind not in INPUT_TYPES:
            raise error(
                where, f"Unsupported input type {kind!r}{line_of(value, 'type')}: use {', '.join(INPUT_TYPES)}."
            )
        item: dict[str, Any] = {"type": kind, "optional": _bool(value.get("optional", False), f"{where}.optional")}
        if value.get("default") is not None:
            if kind not in LITERAL_TYPES:
                raise error(
                    f"{where}.default",
                    f"Only string, number, integer and boolean inputs take a default{line_of(value, 'default')}.",
                )
            item["default"] = _parse_literal(name, value["default"], kind)["value"]
        if value.get("description"):
            item["description"] = str(value["description"])[:500]
        for bound in ("min", "max"):
            if value.get(bound) is not None:
                item[bound] = value[bound]
        if value.get("enum") is not None:
            if not isinstance(value["enum"], list):
                raise error(f"{where}.enum", "enum is a list of allowed values.")
            item["enum"] = [str(v) for v in value["enum"]]
        out[name] = item
    return out


def parse_outputs(raw: Any, *, prefix: str = "outputs") -> dict[str, dict]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise error(prefix, "outputs must be a mapping of names to {type: ...} declarations.")
    out: dict[str, dict] = {}
    for name, value in raw.items():
        name = str(name)
        where = f"{prefix}.{name}"
        if not IDENTIFIER.match(name):
            raise error(prefix, f"{name!r}{line_of(raw, name)} is not a valid output name (letters, digits and '_').")
        value = value or {}
        if not isinstance(value, dict):
            raise error(where, f"Declare the output with a type, e.g. {{type: uri_folder}}{line_of(raw, name)}.")
        refuse_unknown_keys(ComponentOutputSpec, value, source=f"output {name}", field=where)
        kind = str(value.get("type") or "uri_folder")
        if kind not in OUTPUT_TYPES:
            raise error(
                where, f"Unsupported output type {kind!r}{line_of(value, 'type')}: use {', '.join(OUTPUT_TYPES)}."
            )
        out[name] = {"type": kind}
        if value.get("description"):
            out[name]["description"] = str(value["description"])[:500]
    return out


def check_command(command: str, inputs: dict, outputs: dict, *, field_name: str = "command", where: str = "") -> None:
    """Every placeholder names a declared input or output; a required input may appear anywhere,
    an optional one only inside `$[[...]]` (the part is dropped when the input is not given)."""
    required_part = OPTIONAL.sub("", command)
    for match in PLACEHOLDER.finditer(command):
        group, name = match[1], match[2]
        if group == "inputs":
            if name not in inputs:
                raise error(
                    field_name, f"The command{where} uses ${{{{inputs.{name}}}}} but there is no input {name!r}."
                )
            if inputs[name].get("optional") and match[0] in required_part and "default" not in inputs[name]:
                raise error(
                    field_name,
                    f"Input {name!r} is optional{where}: put ${{{{inputs.{name}}}}} inside $[[ ... ]] so the part "
                    "is left out when it is not given.",
                )
        elif group == "outputs":
            if name not in outputs:
                raise error(
                    field_name, f"The command{where} uses ${{{{outputs.{name}}}}} but there is no output {name!r}."
                )
        else:
            raise error(
                field_name, f"${{{{{group}.{name}}}}}{where} is not allowed in a component: use inputs or outputs."
            )


def parse_component(data: Any, *, source: str = "component", inline: bool = False) -> ComponentSpec:
    """Validate a component mapping. `inline`: a pipeline's `type: command` step (no name/version;
    its `inputs`/`outputs` are bindings the pipeline parser reads, not declarations)."""
    if not isinstance(data, dict):
        raise error("spec", f"A {source} is a mapping of keys to values.")
    notices = [] if inline else refuse_unknown_keys(CommandComponentSpec, data, source=source)
    kind = str(data.get("type") or "command")
    if kind != "command":
        raise error("type", f"Studio runs command components; type {kind!r}{line_of(data, 'type')} is not supported.")
    name = str(data.get("name") or "").strip()
    if not inline:
        if not name:
            raise error("name", f"A {source} needs a name.")
        if not NAME_RULE.match(name):
            raise error(
                "name", f"{name!r}{line_of(data, 'name')} is not a component name (letters, digits, '.', '_', '-')."
            )
    command = data.get("command")
    if not isinstance(command, str) or not command.strip():
        raise error("command", f"A {source} needs a command, e.g. python train.py --data ${{{{inputs.data}}}}.")
    environment = data.get("environment")
    if isinstance(environment, str):
        environment = environment.strip()
    if not environment or not isinstance(environment, (str, dict)):
        raise error(
            "environment", f"A {source} needs an environment: azureml:name:version, name@latest or an inline one."
        )
    code = data.get("code")
    if code is not None and not isinstance(code, str):
        raise error("code", "code is a folder (in YAML) or a code id returned by POST /codes/.")
    version = data.get("version")
    spec = ComponentSpec(
        command=command.strip(),
        environment=environment,
        name=name,
        version="" if version in (None, "") else str(version).strip(),
        display_name=str(data.get("display_name") or "").strip()[:255],
        description=str(data.get("description") or "").strip()[:5000],
        tags=clean_tags(data.get("tags")),
        code=code.strip() if isinstance(code, str) and code.strip() else None,
        inputs={} if inline else parse_inputs(data.get("inputs")),
        outputs={} if inline else parse_outputs(data.get("outputs")),
        is_deterministic=_bool(data.get("is_deterministic", True), "is_deterministic"),
        environment_variables=_parse_str_map(data.get("environment_variables"), "environment_variables", env=True),
        notices=notices,
    )
    if not inline:
        check_command(spec.command, spec.inputs, spec.outputs, where=line_of(data, "command"))
    return spec
