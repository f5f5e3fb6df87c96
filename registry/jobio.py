"""Models as job inputs and outputs, registered with jobs.io_types in RegistryConfig.ready().

Input:  {type: mlflow_model, path: azureml:iris:3}       (or name@latest, name@<alias>)
        pinned at submission to the concrete version; on the node its files are copied into the
        job's inputs/<name>/ folder, which `${{inputs.<name>}}` stands for; the job is recorded as
        a user of the version (lineage).
Output: {type: mlflow_model, name: iris, version: 4}      (version optional)
        after the job, the uploaded folder becomes that model version, produced by the job.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError

from datastores import paths
from datastores.storage import StorageError
from jobs.io_types import InputType, OutputType, register_input_type, register_output_type
from registry import services, sources
from registry.models import ModelUsage, ModelVersion

MODEL_TYPES = tuple(ModelVersion.Type.values)


def resolve(workspace, name: str, item: dict) -> dict:
    """Pin `path` (a model reference) to a version; the input keeps the version's reference."""
    ref = str(item.get("path") or "")
    if ref.startswith(("azureml://", "runs:/", "http://", "https://")):
        raise ValidationError(
            f"A {item['type']} input names a registered model: azureml:<name>:<version> or azureml:<name>@latest."
        )
    try:
        version = services.resolve(workspace, ref, field=f"inputs.{name}")
    except ValidationError as exc:
        raise ValidationError(exc.messages) from None
    if item.get("mode") not in (None, "ro_mount", "download"):
        raise ValidationError("A model input is mounted read-only or downloaded (mode ro_mount or download).")
    return {
        **item,
        "model": version.reference,
        "model_name": version.model.name,
        "model_version_id": version.pk,
        "uri": version.uri,
    }


def _version_of(job, item: dict) -> ModelVersion:
    version = (
        ModelVersion.objects.filter(pk=int(item.get("model_version_id") or 0), workspace_id=job.workspace_id)
        .select_related("datastore", "model")
        .first()
    )
    if version is None:
        raise RuntimeError(f"the model {item.get('model') or item.get('path')} was deleted after the job was submitted")
    return version


def materialize(job, item: dict, dest: Path) -> Path:
    """Copy the version's files into `dest` (a folder)."""
    version = _version_of(job, item)
    location = services.files_location(version)
    dest.mkdir(parents=True, exist_ok=True)
    base = location.path
    try:
        for entry in location.store.walk_files(base, limit=sources.MAX_FILES):
            rel = paths.clean_path(entry.path[len(base) :].lstrip("/"))
            location.store.download_file(entry.path, dest / rel)
    except StorageError as exc:
        raise RuntimeError(f"could not read the model {version.reference}: {exc}") from None
    return dest


def record_usage(job, name: str, item: dict) -> None:
    if item.get("model_version_id"):
        services.record_usage(item["model_version_id"], job.name, direction=ModelUsage.Direction.INPUT, port=name)


def check(item: dict) -> None:
    """An output's `name` must be a model name (its `version` is checked by jobs)."""
    try:
        services.check_name(str(item["name"]))
    except ValidationError as exc:
        raise ValidationError(f"{item['name']!r} is not a model name: {' '.join(exc.messages)}") from None


def register(job, name: str, item: dict, uri: str) -> dict:
    """Register the uploaded output `uri` as a version of the model `item["name"]`."""
    source = sources.resolve_source(job.workspace, uri)
    source.job = job
    source.uri = f"azureml://jobs/{job.name}/outputs/{name}"
    version = services.do_create_model_version(
        job.workspace,
        actor=job.created_by,
        name=str(item["name"]),
        version=item.get("version"),
        type=item["type"],
        source=source,
        description=f"Output '{name}' of job {job.name}.",
        # Part of finishing the job, like uploading its outputs: a full disk fails it, not the reserve.
        keep_reserve=False,
    )
    ModelUsage.objects.filter(version=version, job_name=job.name, direction=ModelUsage.Direction.OUTPUT).update(
        port=name
    )
    return {"asset": version.reference, "model": version.reference, "model_name": version.model.name}


def register_handlers() -> None:
    for kind in MODEL_TYPES:
        register_input_type(kind, InputType(resolve=resolve, materialize=materialize, record_usage=record_usage))
        register_output_type(kind, OutputType(check=check, register=register))
