"""MLflow models deployed with no scoring script (Azure ML's "no-code deployment").

A deployment whose model is an `mlflow_model` and that has no `code_configuration` runs Studio's
own pyfunc scoring script (`serving/mlflow_score.py`) in azureml-inference-server-http, like a
script deployment. With no `environment` either, its environment is made from the model's own
files: the Python of `python_env.yaml` (or `conda.yaml`), the packages of `requirements.txt` (or
the `pip:` list of `conda.yaml`), plus what the server needs. That environment is a version of
`<model>-mlflow-env` in the workspace, reused while the model's requirements stay the same (one
build per spec hash, by the existing build machinery); batch deployments of the model with no
driver use the same environment, so online and batch share one build.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError

from environments import hashing
from environments import services as environments
from environments import spec as environment_spec
from environments.models import Environment, EnvironmentVersion
from registry import services as registry
from registry.models import ModelVersion
from studio import yamlspec

SERVING = Path(__file__).resolve().parent / "serving"
SCORING_SCRIPT = "mlflow_score.py"
SERVER_REQUIREMENT = "azureml-inference-server-http==1.5.1"
_PIN = re.compile(r"^(3\.\d+)(\.\d+)?")


def is_mlflow(version: ModelVersion) -> bool:
    return version.type == ModelVersion.Type.MLFLOW


def _model_file(version: ModelVersion, name: str) -> str:
    """A text file beside the model's MLmodel file (the top of its folder), or ""."""
    found = registry.read_small_file(version, name)
    return found.decode(errors="replace") if found is not None else ""


def _requirements(version: ModelVersion) -> tuple[str | None, list[str]]:
    """(python pin, pip requirement lines) from the model's python_env.yaml / requirements.txt /
    conda.yaml, as `mlflow.<flavor>.log_model` writes them."""
    python = None
    lines: list[str] = []
    try:
        python_env = yamlspec.safe_load(_model_file(version, "python_env.yaml") or "{}") or {}
        conda = yamlspec.safe_load(_model_file(version, "conda.yaml") or "{}") or {}
    except yaml.YAMLError:
        raise ValidationError({"model": [f"{version.reference} has a python_env.yaml or conda.yaml that is not YAML."]})
    if isinstance(python_env, dict) and (match := _PIN.match(str(python_env.get("python") or ""))):
        python = match.group(1)
    requirements = _model_file(version, "requirements.txt")
    if requirements:
        lines = [line.strip() for line in requirements.splitlines()]
    elif isinstance(conda, dict):
        for dep in conda.get("dependencies") or []:
            if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
                lines.extend(str(line).strip() for line in dep["pip"])
    if python is None and isinstance(conda, dict):
        for dep in conda.get("dependencies") or []:
            if isinstance(dep, str) and dep.replace(" ", "").startswith("python="):
                if match := _PIN.match(dep.replace(" ", "")[len("python=") :]):
                    python = match.group(1)
    lines = [line for line in lines if line and not line.startswith(("#", "-"))]
    if not any(re.match(r"^mlflow(-skinny)?\b", line) for line in lines):
        raise ValidationError(
            {
                "environment": [
                    f"{version.reference} lists no mlflow requirement (requirements.txt or conda.yaml): "
                    "give an environment for it."
                ]
            }
        )
    return python, lines


def _environment_name(version: ModelVersion) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "-", version.model.name)[:200]
    return f"{base}-mlflow-env"


def environment_for(
    workspace, version: ModelVersion, *, actor, extra: tuple[str, ...] = (SERVER_REQUIREMENT,)
) -> EnvironmentVersion:
    """The environment that serves `version`: its requirements plus `extra`, as a version of
    `<model>-mlflow-env` (an existing version with the same content is reused)."""
    python, lines = _requirements(version)
    conda = {
        "name": "mlflow-env",
        "dependencies": [f"python={python or '3.11'}", {"pip": [*lines, *extra]}],
    }
    definition = environment_spec.parse(
        {
            "name": _environment_name(version),
            "image": settings.STUDIO_BASE_IMAGE,
            "description": f"Made from the requirements of the MLflow model {version.reference}.",
            "conda_file": yaml.safe_dump(conda, sort_keys=False),
            "tags": {"mlflow_model": version.reference},
        }
    )
    spec_hash = hashing.spec_hash(definition)
    env = Environment.objects.filter(workspace=workspace, name=definition.name).first()
    if env is not None:
        same = env.versions.filter(spec_hash=spec_hash, archived=False).order_by("-created_at").first()
        if same is not None:
            return same
    return environments.do_create_environment_version(workspace, actor=actor, definition=definition)


def stage_scoring_script(dest: Path) -> str:
    """Put the pyfunc scoring script in `dest` (an instance's code folder); returns its name."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SERVING / SCORING_SCRIPT, dest / SCORING_SCRIPT)
    return SCORING_SCRIPT
