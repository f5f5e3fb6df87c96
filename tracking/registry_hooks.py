"""What the registry app asks of tracking (registered in TrackingConfig.ready): the files behind
`models:/<model id>` (an MLflow 3 logged model), and a run's MLflow artifacts for `runs:/<run>/…`
and `azureml://jobs/<job>/outputs/artifacts/paths/…` (a logged model named like the path's
first segment counts too: MLflow 3 writes `runs:/<run>/model` for `log_model(name="model")`)."""

from __future__ import annotations

import re

from datastores import paths
from jobs.models import Job
from registry import sources
from studio.models import Workspace
from tracking.artifacts import store_for_workspace
from tracking.models import LoggedModel

LOGGED_MODEL_URI = re.compile(r"^models:/(?P<model_id>m-[0-9a-f]{32})/?(?P<path>.*)$")


def _model_source(model: LoggedModel, rest: str, uri: str) -> sources.Source:
    root = f"models/{model.model_id}/artifacts"
    rel = paths.join(root, rest) if rest else root
    return sources.existing(store_for_workspace(model.workspace), rel, uri, job=model.source_run)


def logged_model_source(workspace: Workspace, uri: str) -> sources.Source | None:
    match = LOGGED_MODEL_URI.match(uri)
    if match is None:
        return None
    model = (
        LoggedModel.objects.filter(workspace=workspace, model_id=match["model_id"])
        .select_related("workspace", "source_run")
        .first()
    )
    if model is None:
        return sources.existing(store_for_workspace(workspace), "", uri, what=f"Logged model {match['model_id']}")
    return _model_source(model, paths.clean_path(match["path"]), uri)


def run_artifacts_source(job: Job, rel: str) -> sources.Source | None:
    store = store_for_workspace(job.workspace)
    root = f"runs/{job.name}/artifacts"
    full = paths.join(root, rel) if rel else root
    uri = f"runs:/{job.name}/{rel}"
    if store.exists(full):
        return sources.existing(store, full, uri, job=job)
    head, _, rest = rel.partition("/")
    model = LoggedModel.objects.filter(source_run=job, name=head).select_related("workspace", "source_run").first()
    if model is not None:
        return _model_source(model, rest, uri)
    return None


def register() -> None:
    if logged_model_source not in sources.SOURCE_RESOLVERS:
        sources.SOURCE_RESOLVERS.append(logged_model_source)
    if run_artifacts_source not in sources.RUN_ARTIFACT_LOCATORS:
        sources.RUN_ARTIFACT_LOCATORS.append(run_artifacts_source)
