"""Downloading a job's files (`studio job download`): the tree from `/outputs/`, each file streamed
from `/outputs/<path>` to disk with a progress bar; with `--all`, its logs as well."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import quote

from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import info
from studio_cli.uploads import progress_bar

LOG_BLOCK = 1024 * 1024


def _safe_target(root: Path, rel: str) -> Path:
    parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".", "/")]
    if not parts or any(p == ".." for p in parts):
        raise CLIError(f"The server listed an unsafe path {rel!r}; nothing was written for it.")
    return root.joinpath(*parts)


def download_outputs(ctx: Context, name: str, dest: Path, *, output_name: str | None, everything: bool) -> int:
    """Save the job's `outputs/` files (only those of one named output with `output_name`) under
    `dest/<job name>/`; with `everything`, its log files under `dest/<job name>/logs/` too."""
    tree = ctx.client.get(ctx.ws_path("jobs", name, "outputs"))
    files = tree.get("files") or []
    if output_name:
        files = [f for f in files if f.get("output_name") == output_name or f["path"].startswith(f"{output_name}/")]
        if not files:
            raise CLIError(f"Job {name} has no files in an output named {output_name!r}.")
    log_files = (tree.get("logs") or []) if everything else []
    if not files and not log_files:
        raise CLIError(f"Job {name} has no outputs to download (it wrote nothing to outputs/).")
    root = dest / name
    base = ctx.ws_path("jobs", name, "outputs")
    download_files(ctx, files, root, lambda path: (base + quote(path.lstrip("/")), None))
    for entry in log_files:
        _download_log(ctx, name, entry["path"], _safe_target(root / "logs", entry["path"]))
    what = f"{len(files)} files" + (f" and {len(log_files)} logs" if log_files else "")
    info(f"Downloaded {what} to {root}")
    return 0


def download_files(ctx: Context, files: list[dict], root: Path, request_for) -> None:
    """Stream each listed file ({"path", "size"}) to `root/<path>` with one progress bar;
    `request_for(path)` gives the (API path, query params) that serves a file."""
    total = sum(int(f.get("size") or 0) for f in files)
    with progress_bar() as progress:
        task = progress.add_task(f"Downloading {len(files)} files", total=total or None)
        for entry in files:
            target = _safe_target(root, entry["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            url, params = request_for(entry["path"])
            response = ctx.client.raw("GET", url, stream=True, params=params)
            with open(target, "wb") as fh:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    fh.write(chunk)
                    progress.advance(task, len(chunk))


def _download_log(ctx: Context, name: str, path: str, target: Path) -> None:
    """Logs are served by the cursor endpoint; read them block by block."""
    target.parent.mkdir(parents=True, exist_ok=True)
    offset = 0
    with open(target, "w", encoding="utf-8") as fh:
        while True:
            part = ctx.client.get(
                ctx.ws_path("jobs", name, "logs"), params={"file": path, "offset": offset, "limit": LOG_BLOCK}
            )
            fh.write(part.get("text") or "")
            offset = part.get("next_offset", offset)
            if not part.get("text") or offset >= part.get("size", 0):
                return
