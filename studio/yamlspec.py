"""Reading Azure ML CLI v2 style YAML: line numbers in every error, unknown keys reported.

Used by the API (a YAML body) and the CLI alike, so both say the same thing about a bad file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from typing import Any

import yaml
from django.core.exceptions import ValidationError

# What a YAML document may expand to. Anchors and aliases let a few hundred bytes stand for
# billions of values (a "billion laughs"): the parsed tree shares them, but anything that walks it
# (our checks, json.dumps into a JSONField) visits every one. A scalar counts one value per KiB.
MAX_VALUES = 100_000


class YAMLTooLarge(yaml.YAMLError):
    """A document whose aliases expand beyond MAX_VALUES values, or that contains itself."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_expansion(root: yaml.Node, limit: int = MAX_VALUES) -> None:
    """Raise YAMLTooLarge when the composed node graph, with every alias expanded, holds more than
    `limit` values, or when a node contains itself. Linear in the document: each node is sized once."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            own = 1 + len(node.value) // 1024 if isinstance(node, yaml.ScalarNode) else 1
            sizes[key] = own + sum(sizes[id(child)] for child in _children(node))
            entered.discard(key)
            if sizes[key] > limit:
                raise YAMLTooLarge(
                    f"the document expands to more than {limit} values through its anchors and aliases (&/*)"
                )
            continue
        if key in sizes:
            continue
        if key in entered:
            raise YAMLTooLarge("an alias (*) refers to a node that contains it")
        entered.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


class BoundedSafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses documents expanding beyond MAX_VALUES values (YAMLTooLarge).
    Every YAML a member gives the server is read through it (or through `load_yaml`)."""

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            check_expansion(node)
        return node


def safe_load(text: str | bytes):
    """yaml.safe_load with the expansion bound; raises yaml.YAMLError (YAMLTooLarge included)."""
    return yaml.load(text, Loader=BoundedSafeLoader)  # noqa: S506 - BoundedSafeLoader is a SafeLoader


class _LineLoader(BoundedSafeLoader):
    """A safe, bounded loader that remembers the line of every mapping key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping = LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class LineDict(dict):
    """A dict that knows the 1-based line on which each key was written (`.lines[key]`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


def load_yaml(text: str | bytes, *, source: str = "YAML", field: str = "spec") -> Any:
    """Parse `text` (YAML, which includes JSON); a syntax error becomes a ValidationError naming the
    source and line, and so does anything `check_tree` refuses."""
    if isinstance(text, bytes):
        text = decode(text, source=source, field=field)
    if "\x00" in text:
        raise ValidationError({field: [f"{source}: text may not contain NUL characters."]})
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except RecursionError:
        raise ValidationError({field: [f"{source}: nested deeper than {MAX_DEPTH} levels."]}) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise ValidationError({field: [f"{where}: {exc.problem or exc}"]}) from None
    except yaml.YAMLError as exc:
        raise ValidationError({field: [f"{source}: {exc}"]}) from None
    check_tree(data, source=source, field=field)
    return data


def load_mapping(text: str | bytes, *, source: str = "YAML", field: str = "spec") -> LineDict:
    data = load_yaml(text, source=source, field=field)
    if not isinstance(data, dict):
        raise ValidationError({field: [f"{source}: expected a mapping of keys to values at the top level."]})
    return data if isinstance(data, LineDict) else LineDict(data)


def check_keys(
    data: dict, allowed: set[str], *, source: str = "YAML", field: str = "spec", ignored: Set[str] = frozenset()
) -> list[str]:
    """Raise for keys outside `allowed` ∪ `ignored`, naming each with its line. Returns notices for
    the `ignored` keys present (accepted for compatibility, not used). `$schema` is always ignored."""
    lines = getattr(data, "lines", {})
    unknown = [k for k in data if k not in allowed and k not in ignored and k != "$schema"]
    if unknown:
        parts = [f"{k!r} (line {lines[k]})" if k in lines else repr(k) for k in unknown]
        raise ValidationError(
            {
                field: [
                    f"{source}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(parts)}. "
                    f"Allowed: {', '.join(sorted(allowed))}."
                ]
            }
        )
    return [f"{k!r} is accepted but ignored by Studio." for k in data if k in ignored]


MAX_DEPTH = 32
# Beyond 2**53 a JSON number loses integer precision; nothing Studio stores is that large.
MAX_NUMBER = 2**53


def check_tree(value: Any, *, source: str = "request body", field: str = "spec") -> None:
    """Raise a ValidationError naming the first NUL character, over-deep nesting or absurd
    number in a parsed body (keys included). The error is on the top-level key it was found
    under (`description`, `tags` …), else on `field`."""
    stack: list[tuple[Any, int, str, str]] = [(value, 1, "", field)]
    while stack:
        item, depth, where, on = stack.pop()
        at = f" at {where}" if where else ""

        def refuse(message: str) -> ValidationError:
            return ValidationError({on: [f"{source}: {message}{at}."]})  # noqa: B023 - raised at once

        if depth > MAX_DEPTH:
            raise refuse(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if "\x00" in item:
                raise refuse("text may not contain NUL characters")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, (int, float)):
            if isinstance(item, float) and not math.isfinite(item):
                raise refuse(f"{item} is not a number Studio accepts")
            if abs(item) > MAX_NUMBER:
                shown = f"{item:.3g}" if isinstance(item, float) else f"of {len(str(abs(item)))} digits"
                raise refuse(f"a number {shown} is too large")
        elif isinstance(item, Mapping):
            for key, sub in item.items():
                path = f"{where}.{key}" if where else str(key)
                under = on if where else str(key)
                stack.append((key, depth + 1, where, on))
                stack.append((sub, depth + 1, path, under))
        elif isinstance(item, (list, tuple)):
            for i, sub in enumerate(item):
                stack.append((sub, depth + 1, f"{where}[{i}]", on))


def decode(raw: bytes, *, source: str = "request body", field: str = "spec") -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError({field: [f"{source} is not UTF-8 text (byte {exc.start})."]}) from None


# Let yaml.safe_dump write what load_yaml read.
yaml.SafeDumper.add_representer(LineDict, yaml.representer.SafeRepresenter.represent_dict)
