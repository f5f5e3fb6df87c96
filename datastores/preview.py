"""MLTable files, and previews (first rows + schema) of CSV and Parquet data in a datastore."""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError

from datastores import paths
from datastores.storage import StorageError, Store
from studio.yamlspec import check_keys, load_mapping

PREVIEW_ROWS = 20
CSV_SAMPLE_BYTES = 1024 * 1024
MAX_CELL = 200
TABULAR = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
MLTABLE_KEYS = {"paths", "transformations", "type", "traits", "metadata"}
READERS = {"read_delimited", "read_parquet", "read_json_lines", "read_delta_lake"}


@dataclass
class MLTableSpec:
    """What Studio reads from an MLTable file: its paths and how to read them."""

    paths: list[tuple[str, str]]  # (kind: file|folder|pattern, relative path)
    reader: str = "read_delimited"
    delimiter: str | None = None


def parse_mltable(text: str, *, source: str = "MLTable", field_name: str = "path") -> MLTableSpec:
    """Validate an MLTable file: `paths` (each a file, folder or pattern inside the table's
    folder) and optional `transformations` with one reader."""
    data = load_mapping(text, source=source, field=field_name)
    check_keys(data, MLTABLE_KEYS, source=source, field=field_name)
    raw_paths = data.get("paths")
    if not isinstance(raw_paths, list) or not raw_paths:
        raise ValidationError({field_name: [f"{source}: 'paths' must list at least one file, folder or pattern."]})
    found: list[tuple[str, str]] = []
    for i, item in enumerate(raw_paths, 1):
        if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in ("file", "folder", "pattern"):
            raise ValidationError(
                {field_name: [f"{source}: paths entry {i} must be one of file:, folder: or pattern:."]}
            )
        kind, value = next(iter(item.items()))
        value = str(value or "").strip()
        if "://" in value:
            raise ValidationError(
                {field_name: [f"{source}: paths entry {i}: Studio reads paths inside the table's folder only."]}
            )
        try:
            cleaned = paths.clean_path(value, field=field_name) if kind != "pattern" else _clean_pattern(value)
        except ValidationError as exc:
            raise ValidationError({field_name: [f"{source}: paths entry {i}: {' '.join(exc.messages)}"]}) from None
        found.append((kind, cleaned))
    spec = MLTableSpec(paths=found)
    transformations = data.get("transformations") or []
    if not isinstance(transformations, list):
        raise ValidationError({field_name: [f"{source}: 'transformations' must be a list."]})
    for step in transformations:
        name = step if isinstance(step, str) else next(iter(step), None) if isinstance(step, dict) else None
        if name in READERS:
            spec.reader = name
            options = step.get(name) if isinstance(step, dict) else None
            if isinstance(options, dict) and options.get("delimiter"):
                spec.delimiter = str(options["delimiter"])
    return spec


def _clean_pattern(value: str) -> str:
    if value.startswith("/") or ".." in value.split("/"):
        raise ValidationError({"path": ["patterns stay inside the table's folder."]})
    return "/".join(p for p in value.split("/") if p not in ("", "."))


def read_mltable(store: Store, folder: str) -> MLTableSpec:
    """Read and validate `<folder>/MLTable`, and check that the files it names exist."""
    mltable_path = paths.join(folder, "MLTable")
    if not store.isfile(mltable_path):
        raise ValidationError({"path": [f"An mltable folder must contain an MLTable file; {folder or '/'} has none."]})
    text = _read_text(store, mltable_path, 256 * 1024)
    spec = parse_mltable(text, source="MLTable")
    for kind, rel in spec.paths:
        target = paths.join(folder, rel) if rel else folder
        if kind == "file" and not store.isfile(target):
            raise ValidationError({"path": [f"MLTable names the file {rel}, which is not in the folder."]})
        if kind == "folder" and not store.isdir(target):
            raise ValidationError({"path": [f"MLTable names the folder {rel or '.'}, which is not there."]})
    return spec


def _read_text(store: Store, path: str, limit: int) -> str:
    handle = store.open_read(path)
    try:
        with store.errors(path):
            data = handle.read(limit)
    finally:
        handle.close()
    return data.decode("utf-8", errors="replace")


@dataclass
class Preview:
    """The first rows and the column types of a table."""

    source: str = ""
    format: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""
    truncated: bool = False

    @property
    def available(self) -> bool:
        return bool(self.columns)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "format": self.format,
            "schema": [{"name": n, "type": t} for n, t in self.columns],
            "rows": self.rows,
            "note": self.note,
        }


def _kind_of(path: str) -> str | None:
    lower = path.lower()
    for ext, kind in TABULAR.items():
        if lower.endswith(ext):
            return kind
    return None


def _first_table(store: Store, folder: str, pattern: str | None = None) -> str | None:
    for entry in store.walk_files(folder, limit=2000):
        rel = entry.path[len(folder) :].lstrip("/") if folder else entry.path
        if pattern and not fnmatch.fnmatch(rel, pattern):
            continue
        if _kind_of(entry.path) and paths.basename(entry.path) != "MLTable":
            return entry.path
    return None


def preview(store: Store, path: str, data_type: str, *, rows: int = PREVIEW_ROWS) -> Preview:
    """Preview a data asset's path. Never raises for unreadable data: says why in `note`."""
    try:
        return _preview(store, paths.clean_path(path), data_type, rows)
    except (StorageError, ValidationError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return Preview(note=f"No preview: {message}")


def _preview(store: Store, path: str, data_type: str, rows: int) -> Preview:
    delimiter = None
    fmt = None
    if data_type == "uri_file":
        source = path
    elif data_type == "mltable":
        spec = read_mltable(store, path)
        kind, rel = spec.paths[0]
        fmt = {"read_parquet": "parquet", "read_delimited": "csv"}.get(spec.reader)
        if fmt is None:
            return Preview(note=f"No preview for {spec.reader} tables yet.")
        delimiter = spec.delimiter
        if kind == "file":
            source = paths.join(path, rel)
        else:
            source = _first_table(
                store, paths.join(path, rel) if kind == "folder" and rel else path, rel if kind == "pattern" else None
            )
    else:
        source = _first_table(store, path)
    if not source:
        return Preview(note="No CSV or Parquet file to preview in this folder.")
    fmt = fmt or _kind_of(source)
    if fmt == "parquet":
        result = _parquet(store, source, rows)
    elif fmt == "csv":
        result = _csv(store, source, rows, delimiter or ("\t" if source.lower().endswith(".tsv") else None))
    else:
        return Preview(source=source, note="Previews are shown for CSV and Parquet files.")
    result.source = source
    return result


def _csv(store: Store, path: str, limit: int, delimiter: str | None) -> Preview:
    handle = store.open_read(path)
    try:
        with store.errors(path):
            raw = handle.read(CSV_SAMPLE_BYTES + 1)
    finally:
        handle.close()
    truncated = len(raw) > CSV_SAMPLE_BYTES
    text = raw[:CSV_SAMPLE_BYTES].decode("utf-8-sig", errors="replace")
    if truncated and "\n" in text:
        text = text[: text.rfind("\n")]
    if not text.strip():
        return Preview(format="csv", note="The file is empty.")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, [])
    body = []
    sample = []
    for i, row in enumerate(reader):
        if i < 500:
            sample.append(row)
        if i < limit:
            body.append(row)
        if i >= 500:
            break
    names = [h.strip() or f"column{i + 1}" for i, h in enumerate(header)]
    types = [_infer([r[i] for r in sample if i < len(r)]) for i in range(len(names))]
    cells = [[_cell(r[i]) if i < len(r) else "" for i in range(len(names))] for r in body]
    return Preview(
        format="csv", columns=list(zip(names, types, strict=True)), rows=cells, truncated=len(sample) > limit
    )


_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^(nan|NaN|inf|-inf)$")


def _infer(values: list[str]) -> str:
    present = [v.strip() for v in values if v.strip() != ""]
    if not present:
        return "string"
    if all(_INT.match(v) for v in present):
        return "int64"
    if all(_FLOAT.match(v) for v in present):
        return "float64"
    if all(v.lower() in ("true", "false") for v in present):
        return "boolean"
    if all(_is_datetime(v) for v in present):
        return "datetime"
    return "string"


def _is_datetime(value: str) -> bool:
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            parse(value)
            return True
        except ValueError:
            continue
    return False


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _parquet(store: Store, path: str, limit: int) -> Preview:
    import pyarrow.parquet as pq

    handle = store.open_read(path)
    try:
        with store.errors(path):
            try:
                table = pq.ParquetFile(handle)
                schema = table.schema_arrow
                batch = next(table.iter_batches(batch_size=limit), None)
            except Exception as exc:  # noqa: BLE001 - a corrupt file is a preview note, not an error page
                return Preview(format="parquet", note=f"Not a readable Parquet file ({type(exc).__name__}).")
    finally:
        handle.close()
    columns = [(f.name, str(f.type)) for f in schema]
    rows = []
    if batch is not None:
        for record in batch.to_pylist()[:limit]:
            rows.append([_cell(record.get(name)) for name, _ in columns])
    return Preview(format="parquet", columns=columns, rows=rows, truncated=table.metadata.num_rows > limit)
