"""The browser's way to describe an environment. The form only gathers input into the same
mapping a YAML file or an API body is; spec.parse decides what is valid, for all three."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from environments import context, spec
from studio import forms as studio_forms
from studio.forms import TagsField, format_tags, parse_tags

KINDS = [
    ("image", "Docker image"),
    ("conda", "Image + conda file"),
    ("pip", "Image + pip requirements"),
    ("build", "Docker build context"),
]

CONDA_TEMPLATE = """name: my-env
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - numpy=2.4
  - pip:
      - mlflow-skinny
"""

# spec.parse error keys -> the form field that shows them (others go to the top of the form)
FIELD_OF = {
    "name": "name",
    "version": "version",
    "description": "description",
    "tags": "tags",
    "image": "image",
    "conda_file": "conda_file",
    "pip_requirements": "pip_requirements",
    "build": "dockerfile",
    "environment_variables": "environment_variables",
    "user_managed_dependencies": "user_managed",
    "interpreter_path": "interpreter_path",
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


def parse_variables(text: str) -> dict[str, str]:
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(f"Line {number}: write NAME=value.")
        out[key.strip()] = value.strip()
    return out


class EnvironmentForm(forms.Form):
    name = forms.CharField(max_length=255, help_text="Letters, digits, '.', '_' or '-'. Reusing a name adds a version.")
    version = forms.CharField(
        max_length=30, required=False, help_text="Leave empty to number it automatically (1, 2, 3 …)."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)
    tags = TagsField()
    kind = forms.ChoiceField(choices=KINDS, initial="conda", widget=forms.RadioSelect, label="Start from")
    image = forms.CharField(
        max_length=500,
        required=False,
        help_text="An image in this Docker engine (Studio never pulls). Conda and pip packages are installed on top.",
    )
    conda_file = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "class": "code"}), required=False)
    conda_upload = forms.FileField(required=False, label="…or upload a conda file (.yml)")
    pip_requirements = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "class": "code", "placeholder": "numpy==2.4.*\npandas\n"}),
        required=False,
        label="pip requirements",
    )
    dockerfile = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "class": "code"}),
        required=False,
        label="Dockerfile",
        help_text="Write a Dockerfile here, or upload a build context below (its Dockerfile is used).",
    )
    context_zip = forms.FileField(required=False, label="Build context (.zip)")
    context_folder = MultipleFileField(required=False, label="…or a folder")
    context_paths = forms.CharField(widget=forms.HiddenInput, required=False)
    context_from = forms.CharField(widget=forms.HiddenInput, required=False)
    dockerfile_path = forms.CharField(max_length=300, required=False, initial="Dockerfile", label="Dockerfile path")
    environment_variables = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "class": "code", "placeholder": "OMP_NUM_THREADS=2"}),
        required=False,
        help_text="NAME=value, one per line. PIP_* and UV_* variables also apply while building.",
    )
    user_managed = forms.BooleanField(
        required=False,
        label="User-managed dependencies",
        help_text="Install nothing; jobs use the interpreter below as it is.",
    )
    interpreter_path = forms.CharField(max_length=500, required=False, help_text="e.g. /usr/bin/python3")

    def __init__(self, *args, reused_files: dict[str, bytes] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].initial = settings.STUDIO_BASE_IMAGE
        self.fields["conda_file"].initial = CONDA_TEMPLATE
        self.fields["context_folder"].widget.attrs.update(
            {"webkitdirectory": "", "data-folder-paths": "id_context_paths"}
        )
        self.reused_files = reused_files
        self.definition: spec.Definition | None = None

    def clean_environment_variables(self):
        return parse_variables(self.cleaned_data.get("environment_variables") or "")

    def _uploaded_context(self, data: dict) -> dict[str, bytes] | None:
        if data.get("context_zip"):
            return context.from_zip(data["context_zip"].read())
        folder = data.get("context_folder") or []
        if folder:
            try:
                paths = json.loads(data.get("context_paths") or "[]")
            except ValueError:
                paths = []
            if len(paths) != len(folder):
                paths = [f.name for f in folder]
            return context.from_files([(p, f.read()) for p, f in zip(paths, folder, strict=True)])
        return None

    def to_mapping(self) -> tuple[dict, dict[str, bytes] | None]:
        data = self.cleaned_data
        kind = data["kind"]
        mapping: dict = {
            "name": data["name"].strip(),
            "version": data["version"].strip() or None,
            "description": data["description"],
            "tags": data["tags"],
            "environment_variables": data["environment_variables"],
        }
        files = None
        if kind == "build":
            # An uploaded context wins; the Dockerfile written in the form fills in when the upload
            # has none, and edits the reused context of the version this one starts from.
            files = self._uploaded_context(data)
            dockerfile_path = data["dockerfile_path"].strip() or "Dockerfile"
            written = data["dockerfile"].strip()
            if files is None and self.reused_files:
                files = dict(self.reused_files)
                if written:
                    files.pop(context.safe_path(dockerfile_path), None)
            if written and (files is None or context.safe_path(dockerfile_path) not in files):
                files = dict(files or {})
                files[context.safe_path(dockerfile_path)] = written.encode() + b"\n"
            mapping["build"] = {"path": ".", "dockerfile_path": dockerfile_path}
        else:
            mapping["image"] = data["image"].strip()
            if kind == "conda":
                upload = data.get("conda_upload")
                mapping["conda_file"] = upload.read().decode(errors="replace") if upload else data["conda_file"]
            elif kind == "pip":
                mapping["pip_requirements"] = data["pip_requirements"]
            if data["user_managed"]:
                mapping["user_managed_dependencies"] = True
                mapping["interpreter_path"] = data["interpreter_path"].strip()
        return mapping, files

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            mapping, files = self.to_mapping()
            self.definition = spec.parse(mapping, source="form", files=files)
        except ValidationError as exc:
            apply_errors(self, exc)
        return cleaned


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put spec/service errors on the fields they concern (spec keys named as form fields)."""
    if hasattr(exc, "error_dict"):
        by_field: dict[str, list[str]] = {}
        for key, messages in exc.message_dict.items():
            by_field.setdefault(FIELD_OF.get(key, NON_FIELD_ERRORS), []).extend(messages)
        exc = ValidationError(by_field)
    studio_forms.apply_errors(form, exc)


def initial_from(version) -> dict:
    """Form values that reproduce `version` ("New version from this one")."""
    initial = {
        "name": version.environment.name if not version.environment.curated else version.environment.name[7:],
        "description": version.description,
        "tags": format_tags(version.tags),
        "kind": version.kind,
        "environment_variables": "\n".join(f"{k}={v}" for k, v in version.environment_variables.items()),
        "user_managed": version.user_managed,
        "interpreter_path": version.interpreter_path,
    }
    if version.kind == "build":
        initial |= {"dockerfile": version.dockerfile, "dockerfile_path": version.dockerfile_path}
        initial["context_from"] = version.reference
    else:
        initial["image"] = version.image
        initial["conda_file"] = version.conda_file or CONDA_TEMPLATE
        initial["pip_requirements"] = version.pip_requirements
    return initial


__all__ = ["EnvironmentForm", "apply_errors", "initial_from", "parse_tags"]
