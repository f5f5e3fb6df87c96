"""Downloading a job's outputs (`studio job download`): the file tree from `/outputs/`, each file
streamed from `/outputs/<path>` to disk with a progress bar."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import quote

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import info, stderr_console


def _files(tree) -> list[dict]:
    """Flatten the tree answer into [{"path", "size"}] (files only)."""
    if isinstance(tree, dict):
        for key in ("files", "results", "entries", "children"):
            if key in tree:
                return _files(tree[key])
        return []
    out = []
    for entry in tree or []:
        if entry.get("type") in ("dir", "directory", "folder") or entry.get("is_dir"):
            out.extend(_files(entry.get("children", [])))
        else:
            out.append(entry)
    return out


def _safe_target(root: Path, rel: str) -> Path:
    parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".", "/")]
    if not parts or any(p == ".." for p in parts):
        raise CLIError(f"The server listed an unsafe output path {rel!r}; nothing written for it.")
    return root.joinpath(*parts)


def download_outputs(ctx: Context, name: str, dest: Path, *, output_name: str | None, everything: bool) -> int:
    params = {"output_name": output_name} if output_name else {}
    tree = ctx.client.get(ctx.ws_path("jobs", name, "outputs"), params=params)
    files = _files(tree)
    if output_name:
        files = [f for f in files if _in_output(f, output_name)] or files
    if not files:
        raise CLIError(f"Job {name} has no outputs{f' named {output_name!r}' if output_name else ''} to download.")
    root = dest / name
    total = sum(int(f.get("size") or 0) for f in files)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=stderr_console(),
    ) as progress:
        task = progress.add_task(f"Downloading {len(files)} files", total=total or None)
        for entry in files:
            rel = entry["path"]
            target = _safe_target(root, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            url = ctx.ws_path("jobs", name, "outputs") + quote(rel.lstrip("/"))
            response = ctx.client.raw("GET", url, stream=True, params=params)
            with open(target, "wb") as fh:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    fh.write(chunk)
                    progress.advance(task, len(chunk))
    info(f"Downloaded {len(files)} files to {root}")
    return 0


def _in_output(entry: dict, output_name: str) -> bool:
    return entry.get("output_name") == output_name or str(entry.get("path", "")).startswith(f"{output_name}/")
