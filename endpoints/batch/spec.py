"""Checks of Azure ML's batchEndpoint / modelBatchDeployment fields, each failure a ValidationError
on its field (HTTP 400 with field messages). Settings are read from `settings:` (the current
schema) or from the top level (the older one), `resources.instance_count` or `instance_count`."""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError

MAX_INSTANCES = 8
MAX_CONCURRENCY = 16
MAX_MINI_BATCH = 10_000
MAX_RETRIES = 10
MAX_TIMEOUT = 24 * 3600
MAX_THRESHOLD = 2**31 - 1  # the column's range (Azure's is int.MaxValue)
OUTPUT_ACTIONS = ("append_row", "summary_only")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _whole(value: Any, field: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _err(field, f"{field.rsplit('.', 1)[-1]} is a whole number from {low} to {high}, not {value!r}.")
    return value


@dataclass
class BatchSettings:
    instance_count: int = 1
    max_concurrency_per_instance: int = 1
    mini_batch_size: int = 10
    output_action: str = "append_row"
    output_file_name: str = "predictions.csv"
    max_retries: int = 3
    timeout: int = 30
    error_threshold: int = -1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_settings(data: dict[str, Any], current: BatchSettings | None = None) -> BatchSettings:
    """The deployment's batch settings; what `data` leaves out keeps `current` (or Azure's default)."""
    base = current or BatchSettings()
    raw = data.get("settings")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _err(
            "settings", "settings maps mini_batch_size, max_concurrency_per_instance, output_action, ... to values."
        )
    flat = {
        k: data[k]
        for k in (
            "mini_batch_size",
            "max_concurrency_per_instance",
            "output_action",
            "output_file_name",
            "retry_settings",
            "error_threshold",
        )
        if k in data
    }
    raw = flat | raw
    resources = data.get("resources") or {}
    if not isinstance(resources, dict):
        raise _err("resources", "resources maps instance_count to a number.")
    retry = raw.get("retry_settings") or {}
    if not isinstance(retry, dict):
        raise _err("settings.retry_settings", "retry_settings maps max_retries and timeout to numbers.")
    action = raw.get("output_action", base.output_action)
    if action not in OUTPUT_ACTIONS:
        raise _err("settings.output_action", f"output_action is append_row or summary_only, not {action!r}.")
    file_name = raw.get("output_file_name", base.output_file_name)
    if not isinstance(file_name, str) or not FILE_NAME.match(file_name) or ".." in file_name:
        raise _err(
            "settings.output_file_name",
            f"output_file_name is a plain file name (e.g. predictions.csv), not {file_name!r}.",
        )
    unknown = sorted(str(k) for k in retry if k not in ("max_retries", "timeout"))
    if unknown:
        raise _err(
            "settings.retry_settings",
            f"retry_settings has max_retries and timeout, not {', '.join(unknown)}.",
        )
    threshold = raw.get("error_threshold", base.error_threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not -1 <= threshold <= MAX_THRESHOLD:
        raise _err(
            "settings.error_threshold",
            f"error_threshold is -1 (ignore failures) or the number of failed files tolerated, up to {MAX_THRESHOLD}, "
            f"not {threshold!r}.",
        )
    return BatchSettings(
        instance_count=_whole(
            resources.get("instance_count", data.get("instance_count")),
            "resources.instance_count",
            1,
            MAX_INSTANCES,
            base.instance_count,
        ),
        max_concurrency_per_instance=_whole(
            raw.get("max_concurrency_per_instance"),
            "settings.max_concurrency_per_instance",
            1,
            MAX_CONCURRENCY,
            base.max_concurrency_per_instance,
        ),
        mini_batch_size=_whole(
            raw.get("mini_batch_size"), "settings.mini_batch_size", 1, MAX_MINI_BATCH, base.mini_batch_size
        ),
        output_action=action,
        output_file_name=file_name,
        max_retries=_whole(
            retry.get("max_retries"), "settings.retry_settings.max_retries", 0, MAX_RETRIES, base.max_retries
        ),
        timeout=_whole(retry.get("timeout"), "settings.retry_settings.timeout", 1, MAX_TIMEOUT, base.timeout),
        error_threshold=threshold,
    )


def check_driver(source: str, script: str) -> None:
    """A batch driver defines init() and run(mini_batch) at its top level."""
    try:
        tree = ast.parse(source, filename=script)
    except SyntaxError as exc:
        raise _err("code_configuration", f"{script}, line {exc.lineno}: {exc.msg}.") from None
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = [name for name in ("init", "run") if name not in defined]
    if missing:
        raise _err(
            "code_configuration",
            f"The scoring script {script} has no {' and no '.join(f'{m}()' for m in missing)}: a batch driver "
            "defines init() and run(mini_batch), which gets a list of file paths and returns rows or a DataFrame.",
        )
