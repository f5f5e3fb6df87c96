"""The MLflow artifact path space and where each part is stored.

Every artifact URI Studio hands out is `mlflow-artifacts:/<path>`, which the MLflow client turns
into `<tracking uri>/api/2.0/mlflow-artifacts/artifacts/<path>`. The first segments of `<path>`
say whose files they are (the resolver table below); the files live in the workspace's
`workspaceartifactstore` datastore (a folder, S3 or Azure Blob alike) under the same relative path:

    <ws>/runs/<job>/artifacts/<file>        a run's artifacts (log_artifact, log_figure, ...)
    <ws>/models/<model id>/artifacts/<file>  an MLflow 3 logged model's files (log_model)
    <ws>/registry/<name>/<version>/<file>    a registered model version's files (read only; they
                                            live where the registry app put them)

Each route checks the caller's right to read or write its owner, then names the store path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from datastores import paths
from datastores.models import Datastore
from datastores.storage import Store, store_for
from jobs.models import Job
from registry.models import ModelVersion
from studio.models import Workspace
from tracking.auth import Caller
from tracking.errors import MlflowError
from tracking.models import LoggedModel

ARTIFACT_DATASTORE = "workspaceartifactstore"


def run_artifact_uri(job: Job) -> str:
    return f"mlflow-artifacts:/{job.workspace.name}/runs/{job.name}/artifacts"


def model_artifact_uri(model: LoggedModel) -> str:
    return f"mlflow-artifacts:/{model.workspace.name}/models/{model.model_id}/artifacts"


@dataclass
class Target:
    """A resolved artifact path: the store and the path inside it."""

    store: Store
    path: str
    root: str  # the owner's artifact root inside the store (listing stays under it)


def _run(caller: Caller, workspace: Workspace, owner: str, write: bool) -> str:
    job = Job.objects.filter(workspace=workspace, name=owner).select_related("workspace").first()
    allowed = job is not None and (caller.can_write_run(job) if write else caller.can_read_run(job))
    if job is None or (not allowed and not caller.can_read_run(job)):
        raise MlflowError(f"Run '{owner}' not found.", "RESOURCE_DOES_NOT_EXIST")
    if not allowed:
        raise MlflowError(f"You may not write artifacts of run {owner}.", "PERMISSION_DENIED")
    return f"runs/{job.name}/artifacts"


def _logged_model(caller: Caller, workspace: Workspace, owner: str, write: bool) -> str:
    model = LoggedModel.objects.filter(workspace=workspace, model_id=owner).select_related("source_run").first()
    if model is None or not caller.can_read(workspace):
        raise MlflowError(f"Logged model '{owner}' not found.", "RESOURCE_DOES_NOT_EXIST")
    if write and not may_write_model(caller, model):
        raise MlflowError(f"You may not write files of model {owner}.", "PERMISSION_DENIED")
    return f"models/{model.model_id}/artifacts"


def may_write_model(caller: Caller, model: LoggedModel) -> bool:
    if model.source_run is not None:
        return caller.can_write_run(model.source_run)
    return caller.job is None and model.created_by_id == getattr(caller.user, "pk", None)


def _registered_version(caller: Caller, workspace: Workspace, owner: str, write: bool) -> str:
    name, _, version = owner.rpartition("/")
    found = ModelVersion.objects.filter(workspace=workspace, model__name=name, version=version).first()
    if found is None:
        raise MlflowError(f"Model version {owner} not found.", "RESOURCE_DOES_NOT_EXIST")
    if write:
        raise MlflowError("A registered model version's files never change.", "PERMISSION_DENIED")
    return found.storage_path


# (pattern of the path after the workspace, resolver returning the owner's root in the store)
ROUTES: list[tuple[re.Pattern, Callable[[Caller, Workspace, str, bool], str]]] = [
    (re.compile(r"^runs/(?P<owner>[^/]+)/artifacts(?:/(?P<rest>.*))?$"), _run),
    (re.compile(r"^models/(?P<owner>m-[0-9a-f]{32})/artifacts(?:/(?P<rest>.*))?$"), _logged_model),
    (re.compile(r"^registry/(?P<owner>[^/]+/[0-9A-Za-z._-]+)(?:/(?P<rest>.*))?$"), _registered_version),
]


def resolve(caller: Caller, raw_path: str, *, write: bool) -> Target:
    try:
        path = paths.clean_path(raw_path)
    except ValidationError as exc:
        raise MlflowError(" ".join(exc.messages)) from None
    ws_name, _, rest = path.partition("/")
    workspace = Workspace.objects.filter(name=ws_name).first() if ws_name else None
    if workspace is None or not caller.can_read(workspace):
        raise MlflowError(f"No artifacts at '{raw_path}'.", "RESOURCE_DOES_NOT_EXIST")
    for pattern, owner_root in ROUTES:
        match = pattern.match(rest)
        if match:
            root = owner_root(caller, workspace, match["owner"], write)
            tail = match["rest"] or ""
            datastore = Datastore.objects.get(workspace=workspace, name=ARTIFACT_DATASTORE)
            return Target(store_for(datastore), f"{root}/{tail}".rstrip("/"), root)
    raise MlflowError(f"No artifacts at '{raw_path}'.", "RESOURCE_DOES_NOT_EXIST")


def store_for_workspace(workspace: Workspace) -> Store:
    return store_for(Datastore.objects.get(workspace=workspace, name=ARTIFACT_DATASTORE))


def registered_version_uri(version) -> str:
    return f"mlflow-artifacts:/{version.workspace.name}/registry/{version.model.name}/{version.version}"
