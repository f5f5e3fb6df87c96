"""How a model version is named: Azure ML's `azureml:name:version`, `name@latest`, `name@<alias>`,
and MLflow's `models:/name/<version>`, `models:/name@<alias>`, `models:/name/latest|<stage>`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"
AZURE = re.compile(
    rf"^(?:azureml:)?(?P<name>{_NAME})(?::(?P<version>[A-Za-z0-9._-]{{1,30}})|@(?P<alias>[A-Za-z0-9_-]{{1,255}}))?$"
)
MLFLOW = re.compile(
    rf"^models:/(?P<name>{_NAME})(?:/(?P<version>[A-Za-z0-9._-]{{1,30}})|@(?P<alias>[A-Za-z0-9_-]{{1,255}}))/?$"
)
STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: exactly one of version, alias or stage, or none of them (= latest)."""

    name: str
    version: str | None = None
    alias: str | None = None
    stage: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        if self.stage is not None:
            return f"{self.name} in stage {self.stage}"
        return f"{self.name}@latest"


def parse_reference(ref: str, *, field: str = "model") -> ModelRef:
    """Parse a model reference (see the module docstring); a ValidationError on `field` if it is none."""
    text = (ref or "").strip()
    if match := MLFLOW.match(text):
        name, version, alias = match["name"], match["version"], match["alias"]
        if version is not None and not version.isdigit():
            if version.lower() == "latest":
                return ModelRef(name)
            if version.lower() in STAGES:
                return ModelRef(name, stage=STAGES[version.lower()])
        return ModelRef(name, version=version, alias=None if alias == "latest" else alias)
    if match := AZURE.match(text):
        alias = match["alias"]
        return ModelRef(match["name"], version=match["version"], alias=None if alias == "latest" else alias)
    raise ValidationError(
        {field: [f"{ref!r} is not a model reference: use name:version, name@latest or name@<alias>."]}
    )
