"""Where a new model version's files come from, and copying them into the artifact datastore.

A source is given as a URI (the `path` of an Azure ML model YAML, or MLflow's `source`):

    azureml://datastores/<datastore>/paths/<path>            a file or folder in a datastore
    azureml://jobs/<job>/outputs/artifacts/paths/<path>      a job's (run's) artifacts, e.g. outputs/model
    azureml://jobs/<job>/outputs/<output name>               a job's named output (where it was uploaded)
    runs:/<run>/<path>                                       the same as the artifacts form (run = job name)

Higher apps extend this without registry importing them (registry sits below tracking):
- `SOURCE_RESOLVERS`: functions (workspace, uri) -> Source | None, tried first; e.g. tracking adds
  `models:/<model id>` for MLflow 3 logged models.
- `RUN_ARTIFACT_LOCATORS`: functions (job, path) -> Source | None, tried in order before the
  built-in one, which serves `outputs/…` from the job's stored outputs folder; tracking adds
  the MLflow artifacts it keeps in the artifact datastore.
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from datastores import paths
from datastores.reserve import Reserve
from datastores.services import get_datastore
from datastores.storage import StorageError, Store, local_store, store_for
from jobs import artifacts
from jobs.models import Job
from studio import zips
from studio.models import Workspace

MAX_FILES = 10_000
MAX_ZIP_BYTES = 50 * 1024**3
JOB_ARTIFACTS = re.compile(r"^azureml://jobs/(?P<job>[^/]+)/outputs/artifacts/paths/(?P<path>.*)$")
JOB_OUTPUT = re.compile(r"^azureml://jobs/(?P<job>[^/]+)/outputs/(?P<output>[A-Za-z0-9_.-]+)/?$")
RUNS_URI = re.compile(r"^runs:/(?P<job>[^/]+)/?(?P<path>.*)$")


@dataclass
class Source:
    """Files to register: `path` in `store` (a file, or a folder when `is_file` is false).
    `uri` is the canonical form kept on the version; `job` its producing job, when known."""

    store: Store
    path: str
    is_file: bool
    uri: str
    job: Job | None = None


SOURCE_RESOLVERS: list[Callable[[Workspace, str], Source | None]] = []
RUN_ARTIFACT_LOCATORS: list[Callable[[Job, str], Source | None]] = []


def _missing(what: str) -> ValidationError:
    return ValidationError({"path": [f"{what} does not exist."]})


def existing(store: Store, rel: str, uri: str, *, job: Job | None = None, what: str = "") -> Source:
    """`rel` in `store` as a Source, or a ValidationError when nothing is there."""
    try:
        if rel and store.isfile(rel):
            return Source(store, rel, True, uri, job)
        if store.isdir(rel) and any(True for _ in store.walk_files(rel, limit=1)):
            return Source(store, rel, False, uri if uri.endswith("/") else uri + "/", job)
    except StorageError as exc:
        raise ValidationError({"path": [str(exc)]}) from None
    raise _missing(what or uri)


def _job(workspace: Workspace, name: str, uri: str) -> Job:
    job = Job.objects.filter(workspace=workspace, name=name).first()
    if job is None:
        raise ValidationError({"path": [f"There is no job (run) {name!r} in {workspace.name} ({uri})."]})
    return job


def job_outputs_source(job: Job, rel: str) -> Source | None:
    """The built-in run-artifact locator: `outputs/…` in the job's stored outputs folder."""
    if rel != "outputs" and not rel.startswith("outputs/"):
        return None
    root = artifacts.outputs_root(job)
    uri = f"azureml://jobs/{job.name}/outputs/artifacts/paths/{rel}"
    if not root.is_dir():
        raise ValidationError({"path": [f"Job {job.name} has no stored outputs (yet): {uri} does not exist."]})
    store = local_store(root, label=f"job {job.name}")
    return existing(store, rel.removeprefix("outputs").lstrip("/"), uri, job=job)


def run_artifact(job: Job, raw_path: str) -> Source:
    """The files at `raw_path` of a job's (MLflow run's) artifacts."""
    rel = paths.clean_path(raw_path)
    for locate in [*RUN_ARTIFACT_LOCATORS, job_outputs_source]:
        found = locate(job, rel)
        if found is not None:
            return found
    raise _missing(f"azureml://jobs/{job.name}/outputs/artifacts/paths/{rel}")


def resolve_source(workspace: Workspace, uri: str) -> Source:
    """The files a `path` URI names (see the module docstring), checked to exist. Raises a
    ValidationError on the `path` field, in words, for anything else."""
    uri = (uri or "").strip()
    if not uri:
        raise ValidationError({"path": ["Give the model's path: upload files, or use a job, run or datastore URI."]})
    if "\x00" in uri or len(uri) > 2048:
        raise ValidationError({"path": ["That path is not valid."]})
    for resolver in SOURCE_RESOLVERS:
        found = resolver(workspace, uri)
        if found is not None:
            return found
    if uri.startswith("azureml://datastores/"):
        parsed = paths.parse_uri(uri)
        datastore = get_datastore(workspace, parsed.datastore)
        try:
            store = store_for(datastore)
        except StorageError as exc:
            raise ValidationError({"path": [str(exc)]}) from None
        return existing(store, parsed.path, str(parsed))
    if match := JOB_ARTIFACTS.match(uri):
        return run_artifact(_job(workspace, match["job"], uri), match["path"])
    if match := RUNS_URI.match(uri):
        return run_artifact(_job(workspace, match["job"], uri), match["path"])
    if match := JOB_OUTPUT.match(uri):
        job = _job(workspace, match["job"], uri)
        output = (job.outputs or {}).get(match["output"]) or {}
        if not output.get("uri"):
            raise ValidationError({"path": [f"Job {job.name} has no uploaded output {match['output']!r}."]})
        found = resolve_source(workspace, output["uri"])
        found.job = job
        return found
    raise ValidationError(
        {
            "path": [
                f"{uri!r} is not a model path Studio knows: upload local files, or use "
                "azureml://jobs/<job>/outputs/artifacts/paths/<path>, runs:/<run>/<path> or "
                "azureml://datastores/<datastore>/paths/<path>."
            ]
        }
    )


def copy_files(source: Source, dest: Store, folder: str, *, keep_reserve: bool = True) -> tuple[int, int]:
    """Stream the source's files into `folder` of `dest`; returns (files, bytes). A file source
    becomes one file of that name; a folder keeps its layout. At most MAX_FILES files. A member's
    copy `keep_reserve`s the free space of a local store (datastores/reserve.py)."""
    count = size = 0
    reserve = Reserve(dest, field="path") if keep_reserve else None
    try:
        if source.is_file:
            name = paths.basename(source.path)
            size = dest.write_stream(paths.join(folder, name), source.store.iter_bytes(source.path), reserve=reserve)
            return 1, size
        base = source.path
        for entry in source.store.walk_files(base, limit=MAX_FILES + 1):
            count += 1
            if count > MAX_FILES:
                raise ValidationError({"path": [f"A model holds at most {MAX_FILES} files."]})
            rel = entry.path[len(base) :].lstrip("/") if base else entry.path
            size += dest.write_stream(paths.join(folder, rel), source.store.iter_bytes(entry.path), reserve=reserve)
    except StorageError as exc:
        raise ValidationError({"path": [str(exc)]}) from None
    return count, size


def extract_zip(store: Store, zip_path: str, folder: str) -> tuple[int, int]:
    """Unpack an uploaded zip (in `store`) into `folder`; member names are cleaned like any
    path (no absolute paths, no `..`, no links). Returns (files, bytes)."""
    count = size = 0
    try:
        with store.open_read(zip_path) as handle:
            try:
                archive = zipfile.ZipFile(handle)
            except (zipfile.BadZipFile, OSError):
                raise ValidationError({"file": ["The upload is not a valid zip archive."]}) from None
            with archive:
                members = [i for i in archive.infolist() if not i.is_dir()]
                if len(members) > MAX_FILES:
                    raise ValidationError({"file": [f"A model holds at most {MAX_FILES} files."]})
                unpacked = sum(i.file_size for i in members)
                if unpacked > MAX_ZIP_BYTES:
                    raise ValidationError({"file": ["The zip unpacks to more than 50 GiB."]})
                # The declared sizes bind: zipfile stops a member at its file_size.
                reserve = Reserve(store)
                reserve.need(unpacked)
                for info in members:
                    if stat.S_ISLNK(info.external_attr >> 16):
                        raise ValidationError(
                            {"file": [f"The zip entry {info.filename!r} is a link; links are refused."]}
                        )
                    rel = paths.clean_path(info.filename.replace("\\", "/"), field="file")
                    if not rel:
                        continue
                    try:
                        with archive.open(info) as member:
                            size += store.write_stream(paths.join(folder, rel), member, reserve=reserve)
                    except zips.READ_ERRORS as exc:
                        raise zips.unreadable(exc, field="file", name=info.filename) from None
                    count += 1
    except StorageError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    return count, size
