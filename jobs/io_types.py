"""Input and output types that apps above jobs provide (the registry's `mlflow_model`,
`custom_model` and `triton_model`). Jobs knows nothing of them but this table: an app registers
its handlers in its AppConfig.ready(), and submission, staging and finalisation call them.

    register_input_type("mlflow_model", InputType(resolve=..., materialize=..., record_usage=...))
    register_output_type("mlflow_model", OutputType(check=..., register=...))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class InputType:
    """How a job input of one type is handled.

    resolve(workspace, input name, item) -> item to keep on the job: at submission; checks the
        reference and pins it (ValidationError with a message for the input otherwise).
    materialize(job, item, dest folder) -> the path `${{inputs.<name>}}` stands for: on the node,
        before the command starts; must stay inside `dest`.
    record_usage(job, input name, item): lineage, once the job row exists.
    """

    resolve: Callable[[Any, str, dict], dict]
    materialize: Callable[[Any, dict, Path], Path]
    record_usage: Callable[[Any, str, dict], None]


@dataclass(frozen=True)
class OutputType:
    """How a job output of one type is handled.

    check(item): at submission, without touching storage (ValidationError for a bad `name` etc.).
    register(job, output name, item, uploaded uri) -> keys to add to the output kept on the job
        (e.g. {"asset": "name:version"}): after the output was uploaded, when the item has a `name`.
    """

    check: Callable[[dict], None]
    register: Callable[[Any, str, dict, str], dict]


INPUT_TYPES: dict[str, InputType] = {}
OUTPUT_TYPES: dict[str, OutputType] = {}


def register_input_type(kind: str, handler: InputType) -> None:
    INPUT_TYPES[kind] = handler


def register_output_type(kind: str, handler: OutputType) -> None:
    OUTPUT_TYPES[kind] = handler
