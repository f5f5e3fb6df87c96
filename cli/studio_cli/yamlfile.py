"""Reading Azure ML CLI v2 YAML files with the line of every key, so that a bad file is reported
as `job.yml, line 7: …`. (The server has its own reader; this one keeps the client Django-free.)"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from studio_cli.errors import SpecError


class LineDict(dict):
    """A dict that knows the 1-based line on which each key was written (`.lines[key]`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


class LineLoader(yaml.SafeLoader):
    """A safe loader building LineDicts and refusing duplicate keys."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode, deep: bool = False) -> LineDict:
    loader.flatten_mapping(node)  # resolve `<<:` merge keys like SafeLoader does
    mapping = LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {mapping.lines[key]})", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class SpecFile:
    """A YAML file loaded as a mapping, with the folder its relative paths start from."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = str(path)
        self.folder = self.path.resolve().parent
        self.data = self._load()

    def _load(self) -> LineDict:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(f"{self.name}: no such file.")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{self.name}: cannot read it ({exc}).")
        try:
            data = yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{self.name}, line {mark.line + 1}, column {mark.column + 1}" if mark else self.name
            raise SpecError(f"{where}: {exc.problem or exc.context or exc}")
        except yaml.YAMLError as exc:
            raise SpecError(f"{self.name}: {exc}")
        if data is None:
            raise SpecError(f"{self.name}: the file is empty.")
        if not isinstance(data, dict):
            raise SpecError(f"{self.name}: expected a mapping of keys to values at the top level.")
        return data

    def where(self, mapping: dict, key: str) -> str:
        """`file, line N` for a key of `mapping` (a LineDict from this file), or just the file."""
        line = getattr(mapping, "lines", {}).get(key)
        return f"{self.name}, line {line}" if line else self.name

    def local_path(self, mapping: dict, key: str) -> Path:
        """The value of `key` as a path relative to this file's folder; it must exist."""
        raw = str(mapping[key])
        path = Path(raw[len("file:") :] if raw.startswith("file:") else raw).expanduser()
        path = path if path.is_absolute() else self.folder / path
        if not path.exists():
            raise SpecError(f"{self.where(mapping, key)}: {key} {raw!r}: no such file or folder ({path}).")
        return path


def check_keys(spec: SpecFile, mapping: dict, allowed: set[str] | None, *, context: str = "") -> None:
    """Refuse keys outside `allowed`, naming the file and the line of each. `$schema` is accepted.
    None: the server's document does not describe this mapping, so the server alone checks it."""
    if allowed is None:
        return
    unknown = [k for k in mapping if k not in allowed and k != "$schema"]
    if not unknown:
        return
    key = unknown[0]
    hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
    where = spec.where(mapping, key)
    inside = f" in {context}" if context else ""
    suggestion = f" Did you mean {hint[0]!r}?" if hint else f" Allowed: {', '.join(sorted(allowed))}."
    more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
    raise SpecError(f"{where}: unknown key {key!r}{inside}{more}.{suggestion}")


def apply_sets(data: dict, assignments: list[str] | None) -> None:
    """Apply `--set a.b=value` overrides (values parsed as YAML scalars: 0.1, true, text)."""
    for item in assignments or []:
        if "=" not in item:
            raise SpecError(f"--set {item!r}: expected key=value (for example inputs.learning_rate=0.1).")
        dotted, raw = item.split("=", 1)
        parts = [p for p in dotted.strip().split(".") if p]
        if not parts:
            raise SpecError(f"--set {item!r}: the key is empty.")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        target = data
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = LineDict()
            target = target[part]
        target[parts[-1]] = value
