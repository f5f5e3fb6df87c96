"""Staging a job on its node: the job folder, a copy of the code, inputs, and the command line.

    <STUDIO_JOBS_DIR>/<job id>-<attempt>/
        code/           a copy of the snapshot (the command starts here); code/outputs -> ../outputs
        outputs/        what the job writes; uploaded when it ends
        inputs/<name>/  materialised data inputs
        tmp/            HOME and TMPDIR of a venv job

In a container the same folder appears as /job (code read-only, outputs writable).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from compute.backends.runners import CONTAINER_ROOT
from jobs import integrations
from jobs.spec import literal_text, render_command


@dataclass
class Staged:
    root: Path
    code: Path
    outputs: Path
    inputs: Path
    tmp: Path
    command: str = ""  # for this backend, placeholders filled
    input_mounts: list[tuple[Path, str]] = field(default_factory=list)


def job_folder(job) -> Path:
    return Path(settings.STUDIO_JOBS_DIR) / f"{job.pk}-{job.attempt}"


def stage(job, *, in_container: bool, log) -> Staged:
    """Make the job folder, copy the code, materialise inputs, render the command."""
    root = job_folder(job)
    if root.exists():
        shutil.rmtree(root)
    staged = Staged(root=root, code=root / "code", outputs=root / "outputs", inputs=root / "inputs", tmp=root / "tmp")
    for folder in (staged.outputs, staged.inputs, staged.tmp):
        folder.mkdir(parents=True)
    if job.code_id:
        shutil.copytree(job.code.path, staged.code, symlinks=False)
        existing = staged.code / "outputs"
        if existing.is_dir() and not existing.is_symlink():  # the snapshot had an outputs/ folder
            shutil.copytree(existing, staged.outputs, dirs_exist_ok=True)
            shutil.rmtree(existing)
        elif existing.exists() or existing.is_symlink():
            existing.unlink()
        log(f"Code snapshot {job.code.hash[:12]} staged ({job.code.file_count} files)")
    else:
        staged.code.mkdir()
    (staged.code / "outputs").symlink_to("../outputs")
    base = Path(CONTAINER_ROOT) if in_container else root

    input_text: dict[str, str] = {}
    for name, item in job.inputs.items():
        if "value" in item:
            input_text[name] = literal_text(item)
            continue
        if item.get("mode") == "direct":
            input_text[name] = item.get("uri") or item["path"]
            continue
        dest = staged.inputs / name
        log(f"Materialising input {name} ({item['type']}: {item['path']})")
        local = integrations.materialize_input(job, item, dest)
        rel = local.relative_to(staged.inputs) if local.is_relative_to(staged.inputs) else None
        if rel is None:
            raise RuntimeError(f"input {name} was materialised outside the job folder")
        input_text[name] = str(base / "inputs" / rel)
    output_text: dict[str, str] = {}
    for name in job.outputs:
        (staged.outputs / name).mkdir(parents=True, exist_ok=True)
        output_text[name] = str(base / "outputs" / name)
    staged.command = render_command(job.command, input_text, output_text)
    return staged


def job_environment(job, staged: Staged, *, in_container: bool, python: str, image_path: str, extra: dict) -> dict:
    """The variables a job sees: a clean set (nothing of the worker's own environment leaks in, in
    particular not its secrets nor PYTHONDONTWRITEBYTECODE), then the environment's variables, the
    job's, and Studio's (which win)."""
    base = Path(CONTAINER_ROOT) if in_container else staged.root
    home = "/tmp" if in_container else str(staged.tmp)
    path_parts = []
    if python and python.startswith("/"):
        path_parts.append(str(Path(python).parent))
    path_parts.append(image_path or "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    path_parts.append(str(base / ".studio" / "bin"))
    env = {
        "PATH": ":".join(path_parts),
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    if python.startswith("/") and not in_container and (Path(python).parent / "activate").exists():
        env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
    if not in_container and settings.STUDIO_CA_BUNDLE:
        env["SSL_CERT_FILE"] = env["REQUESTS_CA_BUNDLE"] = settings.STUDIO_CA_BUNDLE
    env.update(integrations.environment_variables_of(job))
    env.update(job.environment_variables)
    env.update(
        {
            "AZUREML_RUN_ID": job.name,
            "AZUREML_EXPERIMENT_NAME": job.experiment.name,
            "STUDIO_JOB_NAME": job.name,
            "STUDIO_WORKSPACE": job.workspace.name,
            "STUDIO_OUTPUTS_DIR": str(base / "outputs"),
        }
    )
    env.update(extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def python_shim(staged: Staged, python: str) -> None:
    """`python` on PATH (last) even when an image only has `python3`: .studio/bin/python runs the
    environment's interpreter (a link to it, or `exec python3` when only its name is known)."""
    folder = staged.root / ".studio" / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "python"
    if python.startswith("/"):
        os.symlink(python, shim)
    else:
        name = python if python and python != "python" else "python3"
        shim.write_text(f'#!/bin/sh\nexec {name} "$@"\n')
        shim.chmod(0o755)


def remove(staged: Staged) -> None:
    if not settings.STUDIO_JOB_KEEP_WORKDIR:
        shutil.rmtree(staged.root, ignore_errors=True)


def sweep(active_job_ids: set[int] | None = None) -> int:
    """Remove job folders left on this node by runs that ended without cleaning up (a killed
    worker). A folder stays while its job is still Preparing, Running or Finalizing."""
    from jobs.models import Job

    root = Path(settings.STUDIO_JOBS_DIR)
    if settings.STUDIO_JOB_KEEP_WORKDIR or not root.is_dir():
        return 0
    folders = {}
    for entry in root.iterdir():
        pk, _, _attempt = entry.name.partition("-")
        if entry.is_dir() and pk.isdigit():
            folders[entry] = int(pk)
    if not folders:
        return 0
    active = (
        active_job_ids
        if active_job_ids is not None
        else set(Job.objects.active().filter(pk__in=set(folders.values())).values_list("pk", flat=True))
    )
    removed = 0
    for folder, pk in folders.items():
        if pk not in active:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
