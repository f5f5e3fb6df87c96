"""Printing results: a readable table by default, or `-o json` / `-o yaml` with every field.
Messages for people (progress, notices) go to stderr so stdout stays parseable."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "json", "yaml")
Column = tuple[str, "str | Callable[[dict], Any]"]  # header, key (dotted) or function of the item


def _console(stream) -> Console:
    width = None
    if not stream.isatty():  # a pipe or a file: do not wrap at 80 columns
        width = int(os.environ.get("COLUMNS") or 0) or 200
    return Console(file=stream, width=width, soft_wrap=False, highlight=False)


def stdout_console() -> Console:
    return _console(sys.stdout)


def stderr_console() -> Console:
    return _console(sys.stderr)


def print_stdout(renderable) -> None:
    """Print a rich renderable; into a pipe or file without the padding rich adds to each line."""
    if sys.stdout.isatty():
        stdout_console().print(renderable)
        return
    buffer = io.StringIO()
    console = Console(file=buffer, width=stdout_console().width, soft_wrap=False, highlight=False)
    console.print(renderable)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def info(message: str) -> None:
    stderr_console().print(message, markup=False, highlight=False)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    text = str(value)
    if len(text) >= 19 and text[4:5] == "-" and text[10:11] == "T":  # an ISO timestamp
        return text[:10] + " " + text[11:19]
    return text


def pick(item: dict, key: str | Callable[[dict], Any]) -> Any:
    if callable(key):
        return key(item)
    value: Any = item
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def emit(data: Any, fmt: str, columns: Sequence[Column] | None = None) -> None:
    """Print `data` (a list of items or one item) in `fmt`."""
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    elif fmt == "yaml":
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True))
    elif isinstance(data, list):
        _table(data, columns or _guess_columns(data))
    elif isinstance(data, dict):
        _details(data)
    elif data is not None:
        sys.stdout.write(f"{data}\n")


def _guess_columns(items: list[dict]) -> list[Column]:
    keys = list(items[0].keys())[:6] if items else ["name"]
    return [(k.replace("_", " ").title(), k) for k in keys]


def _table(items: list[dict], columns: Sequence[Column]) -> None:
    if not items:
        print_stdout(Text("(none)", style="dim"))
        return
    table = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
    for header, _ in columns:
        if header == "Description":  # long free text: one line each, `show` has the rest
            table.add_column(header, overflow="ellipsis", no_wrap=True, max_width=60)
        else:
            table.add_column(header, overflow="fold")
    for item in items:
        table.add_row(*(Text(cell(pick(item, key))) for _, key in columns))
    print_stdout(table)


def _details(item: dict) -> None:
    """One object as `field  value` rows (empty ones left out); nested mappings as indented YAML."""
    table = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in item.items():
        if value is None or value == "" or value == {} or value == []:
            continue
        if isinstance(value, (dict, list)) and value and any(isinstance(v, (dict, list)) for v in _values(value)):
            text = yaml.safe_dump(value, sort_keys=False, default_flow_style=False).rstrip()
        elif isinstance(value, str) and "\n" in value:
            text = value.rstrip()
        else:
            text = cell(value)
        table.add_row(Text(str(key)), Text(text))
    print_stdout(table)


def _values(value: dict | list) -> list:
    return list(value.values()) if isinstance(value, dict) else list(value)
