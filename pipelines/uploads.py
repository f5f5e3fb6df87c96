"""A pipeline submitted from the browser with its folder as a zip: component files the YAML names
(`component: ./train.yml`) are read from the zip, each with its own `code:` folder (relative to the
component file) stored as a code snapshot, as the CLI does from a local folder; inline command
steps without a code id of their own get the whole zip as their code."""

from __future__ import annotations

import posixpath
from contextlib import ExitStack

from django.core.exceptions import ValidationError

from jobs import code as code_store
from jobs.models import CodeSnapshot
from jobs.services import do_create_code_snapshot
from jobs.services.submit import CODE_ID
from studio.paths import clean_relative_path
from studio.yamlspec import load_mapping

MAX_COMPONENT_BYTES = 256 * 1024


def is_local_component(ref) -> bool:
    return (
        isinstance(ref, str)
        and not ref.startswith("azureml:")
        and (ref.startswith((".", "/", "file:")) or ref.endswith((".yml", ".yaml")))
    )


def _relative(path: str, field: str) -> str:
    text = path[len("file:") :] if path.startswith("file:") else path
    normal = posixpath.normpath(text)
    return clean_relative_path(normal if normal != "." else "", field=field, what="path")


def apply_folder(workspace, *, actor, data: dict, snapshot: CodeSnapshot | None) -> None:
    """Rewrite `data` (a pipeline mapping) in place: component files from the zip become inline
    component mappings; local code folders become code ids. Errors name the step."""
    raw = data.get("jobs")
    jobs: dict = raw if isinstance(raw, dict) else {}
    for name, step in jobs.items():
        if not isinstance(step, dict):
            continue
        field = f"jobs.{name}.component"
        ref = step.get("component")
        if isinstance(ref, str) and is_local_component(ref):
            if snapshot is None:
                raise ValidationError({field: [f"{ref!r} is a component file: add the pipeline's folder as a zip."]})
            rel = _relative(ref, field)
            found = code_store.open_file(snapshot, rel)
            if found is None or found.stat().st_size > MAX_COMPONENT_BYTES:
                raise ValidationError({field: [f"The zip has no component file {rel!r}."]})
            component = load_mapping(found.read_bytes(), source=rel, field=field)
            code = component.get("code")
            if isinstance(code, str) and not CODE_ID.match(code):
                folder = _relative(posixpath.join(posixpath.dirname(rel), code), field)
                component["code"] = _folder_snapshot(workspace, actor, snapshot, folder, field).hash
            step["component"] = component
        elif ref is None and snapshot is not None:
            code = step.get("code")
            if isinstance(code, str) and CODE_ID.match(code):
                continue
            where = f"jobs.{name}.code"
            folder = _relative(code, where) if isinstance(code, str) else ""
            step["code"] = _folder_snapshot(workspace, actor, snapshot, folder, where).hash


def _folder_snapshot(workspace, actor, snapshot: CodeSnapshot, folder: str, field: str) -> CodeSnapshot:
    """A snapshot of one folder of an uploaded zip (the whole zip for "")."""
    if not folder:
        return snapshot
    prefix = folder.rstrip("/") + "/"
    entries = [f["path"] for f in code_store.list_files(snapshot) if f["path"].startswith(prefix)]
    if not entries:
        raise ValidationError({field: [f"The zip has no folder {folder!r} (or it is empty)."]})
    with ExitStack() as stack:
        files = [(p[len(prefix) :], stack.enter_context(open(snapshot.path / p, "rb"))) for p in entries]
        # One shared top folder ("code/"), which the snapshot drops, so the folder's files are at its root.
        return do_create_code_snapshot(workspace, actor=actor, files=[(f"code/{rel}", fh) for rel, fh in files])
