"""Reading an MLflow `MLmodel` file into plain data for pages, the API and the MLflow registry.

MLflow's own `Model.from_dict` builds its signature with numpy and pandas, which mlflow-skinny (and
the web server) do not have; the file itself is plain YAML whose signature parts are JSON lists of
column specs, so this reads it with a safe YAML loader and keeps MLflow's field names:

    {"flavors": {"sklearn": {...}, "python_function": {...}},
     "signature": {"inputs": [{"name": "x", "type": "double", "required": True}], "outputs": [...],
                   "params": [...]},            # None when the model has no signature
     "input_example": {"artifact_path": "input_example.json", "type": "dataframe", ...} | None,
     "run_id": "...", "model_id": "...", "mlflow_version": "...", "utc_time_created": "...",
     "artifact_path": "...", "model_size_bytes": 123, "metadata": {...}}
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from studio import yamlspec

MLMODEL = "MLmodel"
MAX_MLMODEL_BYTES = 1024 * 1024
_SCALAR_KEYS = ("run_id", "model_uuid", "model_id", "mlflow_version", "utc_time_created", "artifact_path")


def _error(message: str) -> ValidationError:
    return ValidationError({"path": [f"The MLmodel file {message}"]})


def _columns(raw: Any, part: str) -> list[dict[str, Any]]:
    """A signature part (a JSON string, or already a list) as rows: name, type, required, shape."""
    if raw in (None, "", "null"):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _error(f"has a signature whose {part} is not JSON.") from None
    if not isinstance(raw, list):
        raise _error(f"has a signature whose {part} is not a list of columns.")
    rows = []
    for spec in raw[:1000]:
        if not isinstance(spec, dict):
            raise _error(f"has a signature whose {part} holds something other than column specs.")
        rows.append(
            {
                "name": str(spec["name"]) if spec.get("name") is not None else "",
                "type": type_label(spec),
                "required": bool(spec.get("required", True)),
                "default": spec.get("default"),
            }
        )
    return rows


def type_label(spec: dict[str, Any]) -> str:
    """`double`, `tensor(float32, [-1, 4])`, `array<string>`, `object{a: long, b: string}`."""
    kind = str(spec.get("type", "?"))
    if kind == "tensor":
        tensor = spec.get("tensor-spec") or {}
        return f"tensor({tensor.get('dtype', '?')}, {list(tensor.get('shape') or [])})"
    if kind == "array" and isinstance(spec.get("items"), dict):
        return f"array<{type_label(spec['items'])}>"
    if kind == "map" and isinstance(spec.get("values"), dict):
        return f"map<string, {type_label(spec['values'])}>"
    if kind == "object" and isinstance(spec.get("properties"), dict):
        inner = ", ".join(
            f"{k}: {type_label(v)}" for k, v in list(spec["properties"].items())[:50] if isinstance(v, dict)
        )
        return f"object{{{inner}}}"
    if spec.get("shape"):
        return f"{kind} {list(spec['shape'])}"
    return kind


def parse_mlmodel(text: str | bytes) -> dict[str, Any]:
    """The MLmodel file's content as plain, JSON-safe data (see the module docstring). Raises a
    ValidationError on the `path` field for a file that is not an MLmodel."""
    if isinstance(text, bytes):
        if len(text) > MAX_MLMODEL_BYTES:
            raise _error(f"is larger than {MAX_MLMODEL_BYTES // 1024} KiB.")
        text = text.decode("utf-8", errors="replace")
    try:
        data = yamlspec.safe_load(text)
    except yaml.YAMLError as exc:
        raise _error(f"is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict) or not data["flavors"]:
        raise _error("has no flavors: is this an MLflow model folder?")
    out: dict[str, Any] = {
        "flavors": json.loads(json.dumps(data["flavors"], default=str)),
        "signature": None,
        "input_example": None,
    }
    signature = data.get("signature")
    if isinstance(signature, dict):
        out["signature"] = {
            "inputs": _columns(signature.get("inputs"), "inputs"),
            "outputs": _columns(signature.get("outputs"), "outputs"),
            "params": _columns(signature.get("params"), "params"),
        }
    example = data.get("saved_input_example_info")
    if isinstance(example, dict):
        out["input_example"] = json.loads(json.dumps(example, default=str))
    for key in _SCALAR_KEYS:
        if data.get(key) is not None:
            out[key] = str(data[key])
    if isinstance(data.get("model_size_bytes"), int):
        out["model_size_bytes"] = data["model_size_bytes"]
    if isinstance(data.get("metadata"), dict):
        out["metadata"] = json.loads(json.dumps(data["metadata"], default=str))
    return out


def loader_module(mlmodel: dict[str, Any]) -> str:
    """The pyfunc loader (`mlflow.sklearn`), or "" when the model has no python_function flavor."""
    pyfunc = (mlmodel.get("flavors") or {}).get("python_function") or {}
    return str(pyfunc.get("loader_module") or "")
