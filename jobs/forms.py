"""The job submission form. It only collects fields; `to_spec` turns them into the same mapping a
CLI YAML or JSON body gives, and the one submit service does the rest."""

from __future__ import annotations

import math
import re

import yaml
from django import forms
from django.core.exceptions import ValidationError

from jobs import integrations, io_types
from jobs.spec import DATA_TYPES, IDENTIFIER, OUTPUT_TYPES, parse_memory
from studio import yamlspec

NEW_EXPERIMENT = "__new__"


def data_value(value: str) -> re.Match | None:
    """`uri_folder:<path>` (or a type another app registered, e.g. `mlflow_model:azureml:iris:1`)."""
    kinds = (*DATA_TYPES, *io_types.INPUT_TYPES)
    return re.match(rf"^({'|'.join(re.escape(k) for k in kinds)}):(.+)$", value)


def _pairs(text: str) -> list[tuple[str, str]]:
    """`name=value` lines (blank lines and # comments skipped) as pairs, in order."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"Line {number}: write name=value.")
        out.append((key.strip(), value.strip()))
    return out


def _literal(text: str):
    """`0.01` -> 0.01, `true` -> True, `hello world` -> "hello world" (as YAML reads a scalar)."""
    try:
        value = yamlspec.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text  # `.nan` and `.inf` stay words: JSON (and so the job's inputs) has no such numbers
    return value if isinstance(value, (str, int, float, bool)) else text


def inputs_text(inputs: dict) -> str:
    lines = []
    for key, item in inputs.items():
        if "value" in item:
            value = item["value"]
            lines.append(f"{key}={'true' if value is True else 'false' if value is False else value}")
        else:
            lines.append(f"{key}={item['type']}:{item['path']}")
    return "\n".join(lines)


def _outputs(text: str) -> dict[str, dict]:
    """The Outputs box, one output per line, as a job YAML's `outputs:` mapping:

        model=uri_folder                                     -> {type: uri_folder}
        model=uri_folder:azureml://datastores/ds/paths/p/    -> ... path: azureml://datastores/ds/paths/p/
        model=uri_folder -> my_model                         -> ... name: my_model (next version)
        model=uri_folder -> my_model:3                       -> ... name: my_model, version: "3"

    Every bad line is reported, each with its line number."""
    out: dict[str, dict] = {}
    errors = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key, item = _output_line(line)
            if key in out:
                raise ValidationError(f"the output {key!r} is given twice.")
            integrations.check_output(item)
        except ValidationError as exc:
            errors.append(f"Line {number}: {' '.join(exc.messages)}")
            continue
        out[key] = item
    if errors:
        raise ValidationError(errors)
    return out


def _output_line(line: str) -> tuple[str, dict]:
    # An asset name cannot hold "->", so the last arrow on the line starts the registration.
    target, arrow, asset = line.rpartition("->") if "->" in line else (line, "", "")
    key, sep, value = target.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValidationError("write name=type, e.g. model=uri_folder.")
    if not IDENTIFIER.match(key):
        raise ValidationError(f"{key!r} is not a valid output name (letters, digits and '_').")
    kind, colon, path = (part.strip() for part in value.partition(":"))
    if kind not in OUTPUT_TYPES:
        found = f"{kind!r} is not an output type" if kind else "give an output type"
        raise ValidationError(f"{found}: use {', '.join(OUTPUT_TYPES)}.")
    item = {"type": kind}
    if colon:
        if not path:
            raise ValidationError(
                f"give a path after '{kind}:' (azureml://datastores/<datastore>/paths/<path>/), or leave out the ':'."
            )
        item["path"] = path
    if arrow:
        name, colon, version = (part.strip() for part in asset.partition(":"))
        if not name or (colon and not version):
            raise ValidationError("name the data asset after '->', e.g. -> my_model or -> my_model:3.")
        item["name"] = name
        if version:
            item["version"] = version
    return key, item


def outputs_text(outputs: dict) -> str:
    """The Outputs box for `outputs` (a job's, for Clone): what was asked for, not what a run
    added (its `uri` and registered `asset`), so a clone registers the asset's next version."""
    lines = []
    for key, item in outputs.items():
        line = f"{key}={item.get('type') or 'uri_folder'}"
        if item.get("path"):
            line += f":{item['path']}"
        if item.get("name"):
            line += f" -> {item['name']}" + (f":{item['version']}" if item.get("version") else "")
        lines.append(line)
    return "\n".join(lines)


def pairs_text(mapping: dict) -> str:
    return "\n".join(f"{k}={v}" for k, v in mapping.items())


def _code_area(rows: int, placeholder: str) -> forms.Textarea:
    """A monospace box for name=value lines (no spell-check squiggles)."""
    return forms.Textarea(attrs={"rows": rows, "class": "mono", "spellcheck": "false", "placeholder": placeholder})


class JobForm(forms.Form):
    code_source = forms.ChoiceField(
        choices=[
            ("folder", "Upload a folder"),
            ("zip", "Upload a zip file"),
            ("reuse", "Same code as before"),
            ("none", "No code (command only)"),
        ],
        initial="folder",
        widget=forms.RadioSelect,
        label="Code",
    )
    code_zip = forms.FileField(
        required=False, label="Zip file", widget=forms.ClearableFileInput(attrs={"accept": ".zip"})
    )
    code_id = forms.CharField(required=False, widget=forms.HiddenInput)
    command = forms.CharField(
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "spellcheck": "false",
                "class": "mono",
                "placeholder": "python train.py --lr ${{inputs.lr}}",
            }
        ),
        help_text=(
            "Runs in the code folder with bash. ${{inputs.name}} and ${{outputs.name}} are replaced (shell-quoted)."
        ),
    )
    environment = forms.ChoiceField(label="Environment")
    environment_version = forms.CharField(required=False, label="Version", initial="latest")
    compute = forms.ChoiceField(label="Compute")
    experiment = forms.ChoiceField(label="Experiment")
    new_experiment = forms.CharField(required=False, label="New experiment name", max_length=255)
    display_name = forms.CharField(required=False, max_length=255, label="Display name")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    inputs = forms.CharField(
        required=False,
        widget=_code_area(3, "lr=0.01\nepochs=10\ndata=uri_folder:azureml:diabetes:1"),
        help_text="One per line: name=value. Data inputs: name=uri_file:<path>, uri_folder:<path> or mltable:<path>; "
        "models: name=mlflow_model:azureml:<model>:<version> (or custom_model:…).",
    )
    outputs = forms.CharField(
        required=False,
        widget=_code_area(
            3, "model=uri_folder -> my_model\nreport=uri_folder:azureml://datastores/workspaceblobstore/paths/reports/"
        ),
        help_text=(
            "One per line: name=type (uri_folder, uri_file, mlflow_model or custom_model); the command writes to "
            "${{outputs.name}}. Uploaded to the job's own folder in workspaceblobstore unless you add "
            ":azureml://datastores/<datastore>/paths/<path>/ after the type (that needs datastores.write). End with "
            "-> asset or -> asset:version to register it as a data asset (needs data.write; without a version: "
            "the next one)."
        ),
    )
    environment_variables = forms.CharField(
        required=False,
        label="Environment variables",
        widget=_code_area(2, "LOG_LEVEL=debug"),
        help_text="One per line: NAME=value.",
    )
    cpu = forms.DecimalField(
        required=False,
        min_value=0.01,
        max_value=512,
        decimal_places=2,
        label="CPU cores",
        help_text="At most; default: the compute's size.",
    )
    memory = forms.CharField(
        required=False,
        max_length=20,
        label="Memory",
        help_text="e.g. 512m or 2g",
        widget=forms.TextInput(attrs={"placeholder": "2g"}),
    )
    timeout_minutes = forms.IntegerField(required=False, min_value=1, max_value=43200, label="Timeout (minutes)")

    def __init__(self, *args, environments=(), computes=(), experiments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = list(environments)
        self.fields["compute"].choices = list(computes)
        self.fields["experiment"].choices = [(e, e) for e in experiments] + [(NEW_EXPERIMENT, "New experiment…")]

    def clean_inputs(self):
        return _pairs(self.cleaned_data["inputs"])

    def clean_outputs(self):
        return _outputs(self.cleaned_data["outputs"])

    def clean_environment_variables(self):
        return _pairs(self.cleaned_data["environment_variables"])

    def clean_memory(self):
        value = self.cleaned_data["memory"].strip()
        if value:
            try:
                parse_memory(value)
            except ValidationError as exc:
                raise ValidationError(exc.messages) from None
        return value

    def clean(self):
        data = super().clean()
        if data.get("experiment") == NEW_EXPERIMENT and not data.get("new_experiment", "").strip():
            self.add_error("new_experiment", "Name the new experiment.")
        if data.get("code_source") == "zip" and not data.get("code_zip"):
            self.add_error("code_zip", "Choose a zip file.")
        if data.get("code_source") == "reuse" and not data.get("code_id"):
            self.add_error("code_source", "There is no earlier code to reuse: upload it.")
        return data

    def to_spec(self) -> dict:
        data = self.cleaned_data
        version = (data.get("environment_version") or "latest").strip()
        environment = (
            f"{data['environment']}@latest" if version in ("", "latest") else f"{data['environment']}:{version}"
        )
        inputs = {}
        for key, value in data["inputs"]:
            match = data_value(value)
            inputs[key] = {"type": match[1], "path": match[2]} if match else _literal(value)
        spec = {
            "command": data["command"],
            "environment": environment,
            "compute": data["compute"],
            "experiment_name": data["new_experiment"].strip()
            if data["experiment"] == NEW_EXPERIMENT
            else data["experiment"],
            "display_name": data["display_name"],
            "description": data["description"],
            "inputs": inputs,
            "outputs": data["outputs"],
            "environment_variables": dict(data["environment_variables"]),
        }
        resources = {}
        if data.get("cpu"):
            resources["cpu"] = float(data["cpu"])
        if data.get("memory"):
            resources["memory"] = data["memory"]
        if resources:
            spec["resources"] = resources
        if data.get("timeout_minutes"):
            spec["limits"] = {"timeout": data["timeout_minutes"] * 60}
        if data.get("code_source") == "reuse":
            spec["code"] = data["code_id"]
        return spec
