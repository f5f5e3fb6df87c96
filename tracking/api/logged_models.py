"""logged-models/*: MLflow 3's logged models (what `mlflow.<flavor>.log_model` creates), their
tags, params, search, and the file listing behind `models:/<model id>`."""

from __future__ import annotations

from google.protobuf.json_format import ParseDict

from jobs.models import Experiment
from tracking import artifacts, services
from tracking.api.artifacts import list_files
from tracking.api.common import endpoint, find_run, int_param, listed
from tracking.errors import MlflowError
from tracking.models import LoggedModel
from tracking.payloads import logged_model_dict
from tracking.search import _mlflow

WIRE_STATUS = {
    "LOGGED_MODEL_PENDING": LoggedModel.Status.PENDING,
    "LOGGED_MODEL_READY": LoggedModel.Status.READY,
    "LOGGED_MODEL_UPLOAD_FAILED": LoggedModel.Status.FAILED,
}
STATUS_WIRE = {v: k for k, v in WIRE_STATUS.items()}


def _payload(model: LoggedModel) -> dict:
    data = logged_model_dict(model)
    data["info"]["status"] = STATUS_WIRE[model.status]
    return {"model": data}


def _pairs(items, what: str) -> dict:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MlflowError(f"{what} must be a list of {{key, value}} objects.")
    return {i.get("key"): i.get("value", "") for i in items}


def _visible(caller):
    models = LoggedModel.objects.filter(workspace__in=caller.workspaces().values("pk"))
    return models.select_related("workspace", "source_run", "source_run__workspace", "created_by")


def _model(caller, model_id: str, *, write: bool = False) -> LoggedModel:
    model = _visible(caller).filter(model_id=model_id).first()
    if model is None:
        raise MlflowError(f"Logged model '{model_id}' not found.", "RESOURCE_DOES_NOT_EXIST")
    if write and not artifacts.may_write_model(caller, model):
        raise MlflowError(f"You may not change logged model {model_id}.", "PERMISSION_DENIED")
    return model


@endpoint("POST")
def create(request, caller, params):
    run = find_run(caller, params["source_run_id"], write=True) if params.get("source_run_id") else None
    if run is None and caller.job is not None:
        run = caller.job
    try:
        experiment_pk = int(params.get("experiment_id"))
    except (TypeError, ValueError):
        raise MlflowError(f"Invalid experiment id {params.get('experiment_id')!r}.") from None
    experiment = Experiment.objects.filter(pk=experiment_pk, workspace__in=caller.workspaces().values("pk")).first()
    if experiment is None:
        raise MlflowError(f"No experiment with id {experiment_pk}.", "RESOURCE_DOES_NOT_EXIST")
    if run is None and not caller.workspaces("jobs.submit").filter(pk=experiment.workspace_id).exists():
        raise MlflowError("You may not log models in this workspace.", "PERMISSION_DENIED")
    if run is not None and run.experiment_id != experiment.pk:
        raise MlflowError(f"Run {run.name} is not in experiment {experiment_pk}.")
    model = services.do_create_logged_model(
        experiment,
        actor=caller.actor,
        run=run,
        name=str(params.get("name") or "model"),
        model_type=str(params.get("model_type") or ""),
        params=_pairs(params.get("params") or [], "params"),
        tags=_pairs(params.get("tags") or [], "tags"),
    )
    return _payload(_model(caller, model.model_id))


@endpoint("GET", "PATCH", "DELETE")
def detail(request, caller, params, model_id: str):
    if request.method == "GET":
        return _payload(_model(caller, model_id))
    model = _model(caller, model_id, write=True)
    if request.method == "DELETE":
        model.delete()
        return {}
    from tracking.api.common import _json

    status = _json(request).get("status")
    if status not in WIRE_STATUS:
        raise MlflowError(f"Invalid status {status!r}: one of {', '.join(WIRE_STATUS)}.")
    return _payload(services.do_finalize_logged_model(model, WIRE_STATUS[status]))


@endpoint("PATCH")
def set_tags(request, caller, params, model_id: str):
    services.do_set_logged_model_tags(_model(caller, model_id, write=True), params.get("tags") or [])


@endpoint("DELETE")
def delete_tag(request, caller, params, model_id: str, key: str):
    services.do_delete_logged_model_tag(_model(caller, model_id, write=True), key)


@endpoint("POST")
def log_params(request, caller, params, model_id: str):
    services.do_log_logged_model_params(_model(caller, model_id, write=True), params.get("params") or [])


@endpoint("GET")
def list_model_artifacts(request, caller, params, model_id: str):
    model = _model(caller, model_id)
    sub = params.get("artifact_directory_path") or ""
    path = f"{model.workspace.name}/models/{model.model_id}/artifacts/{sub}".rstrip("/")
    return {
        "root_uri": artifacts.model_artifact_uri(model),
        "files": [
            {**f, "path": f"{sub}/{f['path']}".lstrip("/")}
            for f in list_files(artifacts.resolve(caller, path, write=False))
        ],
    }


@endpoint("POST")
def search(request, caller, params):
    from mlflow.entities import LoggedModel as MlflowLoggedModel
    from mlflow.protos.service_pb2 import LoggedModel as LoggedModelProto
    from mlflow.utils.search_utils import SearchLoggedModelsUtils, SearchUtils

    ids = [int(i) for i in listed(params, "experiment_ids") if str(i).isdigit()]
    max_results = int_param(params.get("max_results"), "max_results", 100, 1000)
    models = list(_visible(caller).filter(experiment__in=ids))
    if caller.job is not None:
        models = [m for m in models if m.source_run_id == caller.job.pk]
    by_id = {m.model_id: m for m in models}
    entities = [MlflowLoggedModel.from_proto(ParseDict(_payload(m)["model"], LoggedModelProto())) for m in models]
    entities = _mlflow(
        SearchLoggedModelsUtils.filter_logged_models,
        entities,
        params.get("filter") or None,
        params.get("datasets") or None,
    )
    offset = _mlflow(SearchUtils.parse_start_offset_from_page_token, params.get("page_token") or None)
    page = entities[offset : offset + max_results]
    out = {"models": [_payload(by_id[e.model_id])["model"] for e in page]}
    if offset + max_results < len(entities):
        out["next_page_token"] = SearchUtils.create_page_token(offset + max_results).decode()
    return out
