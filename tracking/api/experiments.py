"""experiments/*: get, get-by-name, create, search (MLflow's own filter and sort for experiments)."""

from __future__ import annotations

from jobs.models import Experiment
from tracking import services
from tracking.api.common import endpoint, int_param, listed
from tracking.errors import MlflowError
from tracking.payloads import experiment_dict
from tracking.search import _mlflow


def _visible(caller):
    return Experiment.objects.filter(workspace__in=caller.workspaces().values("pk")).select_related("workspace")


@endpoint("GET")
def get_experiment(request, caller, params):
    try:
        pk = int(params.get("experiment_id"))
    except (TypeError, ValueError):
        raise MlflowError(f"Invalid experiment id {params.get('experiment_id')!r}.") from None
    experiment = _visible(caller).filter(pk=pk).first()
    if experiment is None:
        raise MlflowError(f"No experiment with id {pk}.", "RESOURCE_DOES_NOT_EXIST")
    return {"experiment": experiment_dict(experiment)}


@endpoint("GET")
def get_experiment_by_name(request, caller, params):
    name = params.get("experiment_name", "")
    matches = list(_visible(caller).filter(name=name)[:2])
    if not matches:
        raise MlflowError(f"Could not find experiment with name '{name}'", "RESOURCE_DOES_NOT_EXIST")
    if len(matches) > 1:
        raise MlflowError(
            "Several of your workspaces have an experiment of that name: use <server>/mlflow/w/<workspace>."
        )
    return {"experiment": experiment_dict(matches[0])}


@endpoint("POST")
def create_experiment(request, caller, params):
    experiment = services.do_create_experiment(
        caller.write_workspace() if caller.workspace is None else _writable(caller),
        actor=caller.actor,
        name=str(params.get("name") or ""),
    )
    return {"experiment_id": str(experiment.pk)}


def _writable(caller):
    if caller.job is not None or not caller.workspaces("jobs.submit").exists():
        raise MlflowError("You may not create experiments in this workspace.", "PERMISSION_DENIED")
    return caller.workspace


@endpoint("POST", "GET")
def search_experiments(request, caller, params):
    from mlflow.entities import Experiment as MlflowExperiment
    from mlflow.utils.search_utils import SearchExperimentsUtils, SearchUtils

    max_results = int_param(params.get("max_results"), "max_results", 1000, 50000)
    view_type = str(params.get("view_type") or "ACTIVE_ONLY")
    experiments = [] if view_type in ("DELETED_ONLY", "2") else list(_visible(caller).order_by("pk"))
    entities = [
        MlflowExperiment(
            str(e.pk), e.name, "", "active", creation_time=d["creation_time"], last_update_time=d["last_update_time"]
        )
        for e, d in ((e, experiment_dict(e)) for e in experiments)
    ]
    by_id = {str(e.pk): e for e in experiments}
    entities = _mlflow(SearchExperimentsUtils.filter, entities, params.get("filter") or "")
    order_by = [str(o) for o in listed(params, "order_by")] or ["creation_time DESC", "experiment_id ASC"]
    entities = _mlflow(SearchExperimentsUtils.sort, entities, order_by)
    offset = _mlflow(SearchUtils.parse_start_offset_from_page_token, params.get("page_token") or None)
    page = entities[offset : offset + max_results]
    out = {"experiments": [experiment_dict(by_id[e.experiment_id]) for e in page]}
    if offset + max_results < len(entities):
        out["next_page_token"] = SearchUtils.create_page_token(offset + max_results).decode()
    return out
