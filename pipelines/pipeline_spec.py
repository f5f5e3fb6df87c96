"""The Azure ML pipeline job YAML (`type: pipeline`): validated, its components pinned, its
bindings resolved, its graph checked for cycles. `parse_pipeline` answers a bad file with the field
and (for YAML bodies) the line at fault: a cycle, a binding to a missing step or output, a type
mismatch, an unknown component version.

    jobs:
      train:
        component: azureml:train@latest          # or train:3, or an inline component mapping
        inputs:
          data: ${{parent.jobs.prep.outputs.clean}}
          lr: ${{parent.inputs.learning_rate}}
        outputs:
          model: ${{parent.outputs.trained}}

A binding is stored as {"kind": "literal", "type", "value"} | {"kind": "data", "type", "item"}
(a resolved data or model input) | {"kind": "step", "type", "step", "output"}.
"""

from __future__ import annotations

import graphlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from jobs import integrations
from jobs.spec import IDENTIFIER, LITERAL_TYPES, _parse_literal, _parse_str_map
from pipelines import component_spec as cs
from pipelines.component_spec import ComponentSpec, error, line_of, parse_component
from pipelines.schema import PipelineJobSpec, PipelineSettingsSpec, PipelineStepSpec, PipelineSweepStepSpec
from studio.schema import refuse_unknown_keys
from studio.tags import clean_tags
from studio.yamlspec import LineDict
from sweeps.spec import parse_sweep_spec

# A `type: sweep` step (Azure ML's sweep in a pipeline): `trial` names the component, the search
# space names some of its (literal) inputs, and its outputs are the best trial's.
SWEEP_PARTS = ("search_space", "objective", "sampling_algorithm", "limits", "early_termination")
BINDING = re.compile(r"^\s*\$\{\{\s*parent\.(.+?)\s*\}\}\s*$")
STEP_OUTPUT = re.compile(r"^jobs\.([A-Za-z_][A-Za-z0-9_]*)\.outputs\.([A-Za-z_][A-Za-z0-9_]*)$")
PARENT_INPUT = re.compile(r"^inputs\.([A-Za-z_][A-Za-z0-9_]*)$")
PARENT_OUTPUT = re.compile(r"^outputs\.([A-Za-z_][A-Za-z0-9_]*)$")
FOLDERISH = {"uri_folder", "mltable", "mlflow_model", "custom_model", "triton_model"}
MAX_STEPS = 200


def compatible(source: str, target: str) -> bool:
    """May an output (or pipeline input) of type `source` feed an input of type `target`?"""
    if source == target:
        return True
    return source in FOLDERISH and target in FOLDERISH


@dataclass
class StepSpec:
    """One validated step. `component` is the reference (`train:3`) when it came from a component
    version, else "" (an inline command). `inputs` are bindings; `outputs` name -> {"type"}."""

    name: str
    command: str
    environment: str
    compute: str
    code: str | None = None
    component: str = ""
    component_version_id: int | None = None
    interface_hash: str = ""
    is_deterministic: bool = True
    display_name: str = ""
    inputs: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    environment_variables: dict[str, str] = field(default_factory=dict)
    upstream: list[str] = field(default_factory=list)
    # A sweep step: {"command": the trial command with ${{search_space.x}}, and SWEEP_PARTS}.
    sweep: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PipelineSpec:
    name: str = ""
    display_name: str = ""
    description: str = ""
    experiment_name: str = "Default"
    tags: dict[str, str] = field(default_factory=dict)
    compute: str = "local"
    default_datastore: str = ""
    continue_on_step_failure: bool = False
    force_rerun: bool = False
    inputs: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)  # name -> {"type", "step", "output"}
    steps: list[StepSpec] = field(default_factory=list)  # in a topological order
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("notices")
        return out

    @classmethod
    def from_dict(cls, data: dict) -> PipelineSpec:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["steps"] = [StepSpec(**s) for s in data.get("steps", [])]
        return cls(**values)

    def step(self, name: str) -> StepSpec:
        return next(s for s in self.steps if s.name == name)


def _strip(value: str) -> str:
    return value[len("azureml:") :] if value.startswith("azureml:") else value


def _bool(value: Any, where: str) -> bool:
    return cs._bool(value, where)


def _parent_inputs(workspace, raw: Any) -> dict[str, dict]:
    """The pipeline's own inputs: literals, or data/model references resolved now (pinned)."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise error("inputs", "inputs must be a mapping of names to values.")
    out: dict[str, dict] = {}
    for name, value in raw.items():
        name = str(name)
        where = f"inputs.{name}"
        if not IDENTIFIER.match(name):
            raise error("inputs", f"{name!r}{line_of(raw, name)} is not a valid input name.")
        if isinstance(value, dict):
            kind = str(value.get("type") or ("uri_folder" if "path" in value else "string"))
            if kind in LITERAL_TYPES:
                literal = _parse_literal(name, value.get("value", value.get("default")), kind)
                out[name] = {"kind": "literal", **literal}
                continue
            if kind not in cs.INPUT_TYPES:
                raise error(where, f"Unsupported input type {kind!r}{line_of(value, 'type')}.")
            item = {
                "type": kind,
                "path": str(value.get("path") or "").strip(),
                "mode": str(value.get("mode") or "ro_mount"),
            }
            if not item["path"]:
                raise error(where, f"A {kind} input needs a path{line_of(raw, name)}.")
            try:
                resolved = integrations.resolve_input(workspace, name, item)
            except ValidationError as exc:
                messages = [m for msgs in getattr(exc, "message_dict", {where: exc.messages}).values() for m in msgs]
                raise ValidationError({where: [f"{m}{line_of(raw, name)}" for m in messages]}) from None
            out[name] = {"kind": "data", "type": kind, "item": resolved, "label": _data_label(resolved)}
        elif isinstance(value, list):
            raise error(where, "An input is a single value, not a list.")
        else:
            out[name] = {"kind": "literal", **_parse_literal(name, value)}
    return out


def _data_label(item: dict) -> str:
    """How an input is named in explanations: its asset (`diabetes:2`), model, or URI."""
    return str(item.get("asset") or item.get("model") or item.get("uri") or item.get("path") or "")


def _parent_outputs(raw: Any) -> dict[str, dict]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise error("outputs", "outputs must be a mapping of names to {type: ...}.")
    out = {}
    for name, value in raw.items():
        name = str(name)
        if not IDENTIFIER.match(name):
            raise error("outputs", f"{name!r}{line_of(raw, name)} is not a valid output name.")
        kind = str((value or {}).get("type") or "uri_folder") if isinstance(value, dict) or value is None else ""
        if kind not in cs.OUTPUT_TYPES:
            raise error(f"outputs.{name}", f"Declare the output as a mapping with a type{line_of(raw, name)}.")
        out[name] = {"type": kind, "step": "", "output": ""}
    return out


def _component_for(
    workspace, step: str, raw: dict, *, actor, resolve_component, register_component
) -> tuple[ComponentSpec, Any]:
    """The step's component: a reference (pinned to its version), an inline mapping (a component
    file the CLI read: registered as a version of that name, reused when unchanged), or an inline
    `type: command` step. Returns (spec, version or None)."""
    where = f"jobs.{step}.component"
    ref = raw.get("component")
    if ref is None:
        if not raw.get("command"):
            raise error(f"jobs.{step}", f"Step {step!r}{line_of(raw, 'type')} needs a component or a command.")
        data = {
            k: v
            for k, v in raw.items()
            if k in ("command", "code", "environment", "is_deterministic", "environment_variables")
        }
        try:
            spec = parse_component(data, source=f"step {step}", inline=True)
        except ValidationError as exc:
            raise _prefixed(exc, f"jobs.{step}") from None
        return spec, None
    if isinstance(ref, str):
        text = ref.strip()
        if text.startswith(("./", "../", "file:")) or text.endswith((".yml", ".yaml")):
            raise error(
                where,
                f"{text!r}{line_of(raw, 'component')} is a local component file: submit the pipeline with "
                "`studio job create --file`, which reads it and uploads its code.",
            )
        version = resolve_component(workspace, text, field=where)
        return ComponentSpec.from_dict(version.spec), version
    if isinstance(ref, dict):
        try:
            version = register_component(workspace, actor=actor, data=ref)
        except ValidationError as exc:
            raise _prefixed(exc, where) from None
        return ComponentSpec.from_dict(version.spec), version
    raise error(where, "component is a reference (azureml:train:3, train@latest) or a component mapping.")


def _prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError({f"{prefix}.{k}" if k != "spec" else prefix: v for k, v in exc.message_dict.items()})
    return ValidationError({prefix: exc.messages})


def _binding(value: Any, *, where: str, line: str, parent_inputs: dict, declared: dict | None) -> dict:
    """One step input's value as a binding (not yet type-checked against an upstream output)."""
    if isinstance(value, str) and (match := BINDING.match(value)):
        path = match[1]
        if found := PARENT_INPUT.match(path):
            name = found[1]
            if name not in parent_inputs:
                known = ", ".join(parent_inputs) or "none"
                raise error(
                    where,
                    f"{value.strip()}{line} names the pipeline input "
                    f"{name!r}, which does not exist (there is: {known}).",
                )
            source = dict(parent_inputs[name])
            source["via"] = f"parent.inputs.{name}"
            return source
        if found := STEP_OUTPUT.match(path):
            return {"kind": "step", "step": found[1], "output": found[2], "type": ""}
        raise error(
            where,
            f"{value.strip()}{line} is not a binding Studio knows: use "
            f"${{{{parent.inputs.x}}}} or ${{{{parent.jobs.<step>.outputs.<y>}}}}.",
        )
    if isinstance(value, str) and "${{" in value:
        raise error(where, f"{value!r}{line}: a binding is the whole value, e.g. ${{{{parent.inputs.x}}}}.")
    if isinstance(value, dict):
        kind = str(value.get("type") or "")
        if kind in LITERAL_TYPES or (not kind and "path" not in value):
            return {
                "kind": "literal",
                **_parse_literal(where.rsplit(".", 1)[-1], value.get("value", value.get("default")), kind or None),
            }
        raise error(
            where, f"Give a data input to the pipeline's inputs and bind it with ${{{{parent.inputs.x}}}}{line}."
        )
    if isinstance(value, list):
        raise error(where, f"An input is a single value, not a list{line}.")
    declared_type = (declared or {}).get("type")
    kind = declared_type if declared_type in LITERAL_TYPES else None
    return {"kind": "literal", **_parse_literal(where.rsplit(".", 1)[-1], value, kind)}


def parse_pipeline(
    workspace, data: dict, *, actor, resolve_component, register_component, source: str = "pipeline"
) -> PipelineSpec:
    """Validate a pipeline mapping; components are resolved with `resolve_component(ws, ref,
    field=)` and inline component mappings registered with `register_component(ws, actor=, data=)`."""
    if not isinstance(data, dict):
        raise error("spec", "A pipeline job is a mapping of keys to values.")
    notices = refuse_unknown_keys(PipelineJobSpec, data, source=source)
    settings_raw = data.get("settings") or {}
    if not isinstance(settings_raw, dict):
        raise error("settings", "settings is a mapping (default_compute, continue_on_step_failure, force_rerun…).")
    notices += refuse_unknown_keys(PipelineSettingsSpec, settings_raw, source="settings", field="settings")
    compute = _strip(str(settings_raw.get("default_compute") or data.get("compute") or "local").strip())
    spec = PipelineSpec(
        name=str(data.get("name") or "").strip(),
        display_name=str(data.get("display_name") or "").strip()[:255],
        description=str(data.get("description") or "").strip()[:5000],
        experiment_name=str(data.get("experiment_name") or "Default").strip() or "Default",
        tags=clean_tags(data.get("tags")),
        compute=compute,
        default_datastore=_strip(str(settings_raw.get("default_datastore") or "").strip()),
        continue_on_step_failure=_bool(
            settings_raw.get("continue_on_step_failure", False), "settings.continue_on_step_failure"
        ),
        force_rerun=_bool(settings_raw.get("force_rerun", False), "settings.force_rerun"),
        inputs=_parent_inputs(workspace, data.get("inputs")),
        outputs=_parent_outputs(data.get("outputs")),
        notices=notices,
    )
    jobs_raw = data.get("jobs")
    if not isinstance(jobs_raw, dict) or not jobs_raw:
        raise error("jobs", "A pipeline needs jobs: a mapping of step names to steps.")
    if len(jobs_raw) > MAX_STEPS:
        raise error("jobs", f"A pipeline has at most {MAX_STEPS} steps.")
    default_env = settings_raw.get("default_environment")
    pinned: dict[str, str] = {}
    steps: dict[str, StepSpec] = {}
    component_outputs: dict[str, dict] = {}
    lines: dict[str, str] = {}
    for step_name, raw in jobs_raw.items():
        step_name = str(step_name)
        if not IDENTIFIER.match(step_name):
            raise error(
                "jobs",
                f"{step_name!r}{line_of(jobs_raw, step_name)} is not a valid step name (letters, digits and '_').",
            )
        if not isinstance(raw, dict):
            raise error(f"jobs.{step_name}", f"A step is a mapping{line_of(jobs_raw, step_name)}.")
        lines[step_name] = line_of(jobs_raw, step_name)
        kind = str(raw.get("type") or "command")
        if kind not in ("command", "sweep"):
            raise error(
                f"jobs.{step_name}.type",
                f"Studio runs command and sweep steps; type {kind!r}{line_of(raw, 'type')} is not supported.",
            )
        notices += refuse_unknown_keys(
            PipelineSweepStepSpec if kind == "sweep" else PipelineStepSpec,
            raw,
            source=f"step {step_name}",
            field=f"jobs.{step_name}",
        )
        if kind == "sweep":
            raw = _sweep_trial(step_name, raw)
        if default_env and raw.get("component") is None and not raw.get("environment"):
            raw = {**raw, "environment": default_env}
        component, version = _component_for(
            workspace,
            step_name,
            raw,
            actor=actor,
            resolve_component=resolve_component,
            register_component=register_component,
        )
        if version is not None and raw.get("environment"):
            component.environment = raw["environment"]
        environment = component.environment
        if isinstance(environment, dict) or version is None or raw.get("environment"):
            from pipelines.services.components import environment_label

            key = environment if isinstance(environment, str) else None
            if key is None or key not in pinned:  # one lookup per reference, not per step
                label = environment_label(workspace, environment, actor=actor, field=f"jobs.{step_name}.environment")
                if key is not None:
                    pinned[key] = label
            environment = pinned[key] if key is not None else label
        code = component.code
        if version is None and code:
            from pipelines.services.components import code_snapshot

            code = code_snapshot(workspace, code, field=f"jobs.{step_name}.code").hash
        step_compute = _strip(str(raw.get("compute") or compute).strip())
        env_vars = {
            **component.environment_variables,
            **_parse_str_map(raw.get("environment_variables"), f"jobs.{step_name}.environment_variables", env=True),
        }
        step = StepSpec(
            name=step_name,
            command=component.command,
            environment=str(environment),
            compute=step_compute,
            code=code,
            component=version.reference if version is not None else "",
            component_version_id=version.pk if version is not None else None,
            interface_hash=version.interface_hash if version is not None else component.interface_hash(code or ""),
            is_deterministic=_bool(
                raw.get("is_deterministic", component.is_deterministic), f"jobs.{step_name}.is_deterministic"
            ),
            display_name=str(raw.get("display_name") or "")[:255],
            environment_variables=env_vars,
        )
        declared = component.inputs if version is not None else None
        raw_inputs = raw.get("inputs") or {}
        if not isinstance(raw_inputs, dict):
            raise error(f"jobs.{step_name}.inputs", "inputs is a mapping of input names to values or bindings.")
        for name, value in raw_inputs.items():
            name = str(name)
            where = f"jobs.{step_name}.inputs.{name}"
            if declared is not None and name not in declared:
                raise error(
                    where,
                    f"{component.name or 'The component'} has no input "
                    f"{name!r}{line_of(raw_inputs, name)} (it has: {', '.join(declared) or 'none'}).",
                )
            if not IDENTIFIER.match(name):
                raise error(f"jobs.{step_name}.inputs", f"{name!r} is not a valid input name.")
            line = line_of(raw_inputs, name)
            decl = (declared or {}).get(name)
            binding = _binding(value, where=where, line=line, parent_inputs=spec.inputs, declared=decl)
            binding["line"] = line
            if decl is not None:
                binding["declared"] = decl["type"]
                _check_type(step_name, name, binding)
            step.inputs[name] = binding
        if kind == "sweep":
            step.sweep = _sweep_parts(step_name, raw, step, component)
        if declared is not None:
            for name, decl in declared.items():
                if name in step.inputs or (kind == "sweep" and name in (raw.get("search_space") or {})):
                    continue
                if "default" in decl:
                    step.inputs[name] = {"kind": "literal", "type": decl["type"], "value": decl["default"], "line": ""}
                elif not decl.get("optional"):
                    raise error(
                        f"jobs.{step_name}.inputs",
                        f"Step {step_name!r}{lines[step_name]}: the required "
                        f"input {name!r} of {version.reference} is not given.",
                    )
        outputs_decl = dict(component.outputs) if version is not None else {}
        raw_outputs = raw.get("outputs") or {}
        if not isinstance(raw_outputs, dict):
            raise error(f"jobs.{step_name}.outputs", "outputs is a mapping of output names to {type: ...} or bindings.")
        for name, value in raw_outputs.items():
            name = str(name)
            where = f"jobs.{step_name}.outputs.{name}"
            if version is not None and name not in outputs_decl:
                raise error(
                    where,
                    f"{version.reference} has no output {name!r}{line_of(raw_outputs, name)} "
                    f"(it has: {', '.join(outputs_decl) or 'none'}).",
                )
            if not IDENTIFIER.match(name):
                raise error(f"jobs.{step_name}.outputs", f"{name!r} is not a valid output name.")
            if isinstance(value, str) and (match := BINDING.match(value)):
                found = PARENT_OUTPUT.match(match[1])
                if not found:
                    raise error(
                        where,
                        f"{value.strip()}{line_of(raw_outputs, name)}: an "
                        f"output binds to ${{{{parent.outputs.<name>}}}}.",
                    )
                target = found[1]
                if target not in spec.outputs:
                    raise error(
                        where,
                        f"{value.strip()}{line_of(raw_outputs, name)} names the pipeline "
                        f"output {target!r}, which is not declared under outputs.",
                    )
                if spec.outputs[target]["step"]:
                    raise error(
                        where,
                        f"The pipeline output {target!r} is already bound to step {spec.outputs[target]['step']!r}.",
                    )
                kind = outputs_decl.get(name, {}).get("type") or spec.outputs[target]["type"]
                if not compatible(kind, spec.outputs[target]["type"]):
                    raise error(
                        where,
                        f"Type mismatch{line_of(raw_outputs, name)}: output {name!r} is {kind}, "
                        f"the pipeline output {target!r} is {spec.outputs[target]['type']}.",
                    )
                spec.outputs[target].update(step=step_name, output=name)
                outputs_decl.setdefault(name, {"type": kind})
            elif isinstance(value, dict) or value is None:
                kind = str((value or {}).get("type") or outputs_decl.get(name, {}).get("type") or "uri_folder")
                if kind not in cs.OUTPUT_TYPES:
                    raise error(where, f"Unsupported output type {kind!r}{line_of(raw_outputs, name)}.")
                if name in outputs_decl and outputs_decl[name]["type"] != kind:
                    raise error(
                        where,
                        f"Type mismatch{line_of(raw_outputs, name)}: {version.reference if version else 'the step'} "
                        f"declares {name!r} as {outputs_decl[name]['type']}, not {kind}.",
                    )
                outputs_decl[name] = {"type": kind}
            else:
                raise error(
                    where, f"An output is {{type: ...}} or ${{{{parent.outputs.<name>}}}}{line_of(raw_outputs, name)}."
                )
        step.outputs = {k: {"type": v["type"]} for k, v in outputs_decl.items()}
        component_outputs[step_name] = step.outputs
        if declared is None:
            try:
                cs.check_command(
                    step.command,
                    {k: {"optional": False} for k in step.inputs},
                    step.outputs,
                    field_name=f"jobs.{step_name}.command",
                )
            except ValidationError as exc:
                raise ValidationError(
                    {f"jobs.{step_name}.command": [f"{m}{line_of(raw, 'command')}" for m in exc.messages]}
                ) from None
        steps[step_name] = step
    # Bindings to other steps: they exist, the output exists, the types fit; then the graph.
    graph = graphlib.TopologicalSorter()
    for step in steps.values():
        graph.add(step.name)
        for name, binding in step.inputs.items():
            if binding["kind"] != "step":
                continue
            where = f"jobs.{step.name}.inputs.{name}"
            upstream, output = binding["step"], binding["output"]
            text = f"${{{{parent.jobs.{upstream}.outputs.{output}}}}}{binding.get('line', '')}"
            if upstream not in steps:
                raise error(
                    where,
                    f"{text} names the step {upstream!r}, which is not in this pipeline (steps: {', '.join(steps)}).",
                )
            if output not in component_outputs[upstream]:
                have = ", ".join(component_outputs[upstream]) or "none"
                raise error(where, f"{text}: step {upstream!r} has no output {output!r} (it has: {have}).")
            binding["type"] = component_outputs[upstream][output]["type"]
            _check_type(step.name, name, binding)
            graph.add(step.name, upstream)
            if upstream not in step.upstream:
                step.upstream.append(upstream)
    try:
        order = list(graph.static_order())
    except graphlib.CycleError as exc:
        members = list(reversed(exc.args[1]))
        cycle = " -> ".join(members)
        raise error(
            "jobs", f"The steps form a cycle: {cycle}{lines[members[0]]}. A step cannot depend on itself."
        ) from None
    spec.steps = [steps[n] for n in order]
    for name, out in spec.outputs.items():
        if not out["step"]:
            raise error(
                f"outputs.{name}",
                f"No step binds the pipeline output {name!r}: add ${{{{parent.outputs.{name}}}}} to a step's outputs.",
            )
    return spec


def _sweep_trial(step: str, raw: dict) -> dict:
    """A sweep step's `trial` (a component reference or mapping) read as the step's component."""
    if "trial" not in raw:
        raise error(
            f"jobs.{step}.trial",
            f"Sweep step {step!r}{line_of(raw, 'type')} needs a trial: a component (azureml:train:1, "
            "or a component file the CLI reads).",
        )
    for part in ("search_space", "objective", "sampling_algorithm"):
        if part not in raw:
            raise error(f"jobs.{step}.{part}", f"Sweep step {step!r}{line_of(raw, 'type')} needs {part}.")
    as_component = LineDict(raw)
    as_component.lines = dict(getattr(raw, "lines", {}))
    as_component["component"] = raw["trial"]
    if "trial" in as_component.lines:
        as_component.lines["component"] = as_component.lines["trial"]
    return as_component


def _sweep_parts(step_name: str, raw: dict, step: StepSpec, component: ComponentSpec) -> dict:
    """Check a sweep step's search space against its component and the sweep settings as the
    sweep YAML would be; return the trial command (`${{inputs.p}}` -> `${{search_space.p}}`) and
    the settings."""
    space = raw.get("search_space")
    where = f"jobs.{step_name}.search_space"
    if not isinstance(space, dict) or not space:
        raise error(where, f"Sweep step {step_name!r}{line_of(raw, 'search_space')}: give at least one parameter.")
    command = step.command
    for name in space:
        name = str(name)
        decl = component.inputs.get(name)
        if decl is None:
            raise error(
                f"{where}.{name}",
                f"{name!r}{line_of(space, name)} is not an input of {step.component or 'the trial'} "
                f"(it has: {', '.join(component.inputs) or 'none'}); the search space sets the trial's inputs.",
            )
        if decl["type"] not in LITERAL_TYPES:
            raise error(
                f"{where}.{name}",
                f"{name!r}{line_of(space, name)} is a {decl['type']} input: a search space sets values "
                "(number, integer, string, boolean), not data.",
            )
        if name in step.inputs and name in (raw.get("inputs") or {}):
            raise error(
                f"jobs.{step_name}.inputs.{name}",
                f"{name!r}{line_of(raw.get('inputs') or {}, name)} is set by the search space: leave it out of inputs.",
            )
        step.inputs.pop(name, None)  # a default of the component, replaced by the sampled value
        command = re.sub(r"\$\{\{\s*inputs\." + re.escape(name) + r"\s*\}\}", f"${{{{search_space.{name}}}}}", command)
    check = LineDict({k: raw[k] for k in SWEEP_PARTS if k in raw})
    check.lines = {k: v for k, v in getattr(raw, "lines", {}).items() if k in check}
    check["trial"] = {"command": "true " + " ".join(f"${{{{search_space.{n}}}}}" for n in space), "environment": "x:1"}
    try:
        parse_sweep_spec(check, source=f"step {step_name}")
    except ValidationError as exc:
        raise _prefixed(exc, f"jobs.{step_name}") from None
    return {"command": command, **{k: _plain(raw[k]) for k in SWEEP_PARTS if k in raw}}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _check_type(step: str, name: str, binding: dict) -> None:
    """A binding against the component's declared input type: literals are converted to it (or
    refused), data must be of a compatible type, and data never feeds a literal input."""
    declared = binding.get("declared")
    if not declared:
        return
    where = f"jobs.{step}.inputs.{name}"
    line = binding.get("line", "")
    source = binding.get("via") or (
        f"{binding['step']}.outputs.{binding['output']}" if binding["kind"] == "step" else "the value"
    )
    if binding["kind"] == "literal":
        if declared not in LITERAL_TYPES:
            raise error(
                where,
                f"Type mismatch{line}: input {name!r} of step {step!r} is "
                f"{declared}, but {source} is a {binding['type']} value.",
            )
        binding.update(_parse_literal(name, binding["value"], declared))
        return
    if not binding["type"]:
        return  # a step output: checked once every step is known
    if declared in LITERAL_TYPES or not compatible(binding["type"], declared):
        raise error(
            where,
            f"Type mismatch{line}: {source} is {binding['type']}, but input {name!r} of step {step!r} is {declared}.",
        )
