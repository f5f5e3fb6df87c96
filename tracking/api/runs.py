"""runs/*, metrics/get-history: the calls `mlflow.start_run`, `log_*`, `set_tag`, `end_run`,
`search_runs` and `get_metric_history` make."""

from __future__ import annotations

from django.db.models import Q, prefetch_related_objects

from jobs import tracking as job_tracking
from jobs.models import Experiment, Job, RunTag
from tracking import search, services
from tracking.api.common import endpoint, find_run, int_param, listed, run_id
from tracking.auth import PARENT_TAG
from tracking.errors import MlflowError
from tracking.payloads import RUN_PREFETCH, number, run_dict, run_info


def _full(job: Job) -> Job:
    """The run's metrics, params, tags and logged models, loaded onto the job already fetched
    (with its workspace and submitter) rather than fetching its wide row a second time."""
    prefetch_related_objects([job], *RUN_PREFETCH)
    return job


@endpoint("GET")
def get_run(request, caller, params):
    return {"run": run_dict(_full(find_run(caller, run_id(params), write=False)))}


@endpoint("POST")
def create_run(request, caller, params):
    tags = params.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
        raise MlflowError("tags must be a list of {key, value} objects.")
    if caller.job is not None:
        # A job is its run; it may start nested runs under itself, in its own experiment.
        parent = next((t.get("value") for t in tags if t.get("key") == PARENT_TAG), None)
        if parent != caller.job.name:
            raise MlflowError(
                f"This job is already the MLflow run {caller.job.name} (MLFLOW_RUN_ID): call mlflow.start_run() "
                "without arguments, or start nested runs (nested=True) under it.",
            )
        experiment = caller.job.experiment
    else:
        experiment = _experiment_for_write(caller, params.get("experiment_id"))
    job = services.do_create_run(
        experiment,
        actor=caller.actor,
        run_name=params.get("run_name") or "",
        start_time=params.get("start_time"),
        tags=tags,
    )
    return {"run": run_dict(_full(job))}


def _experiment_for_write(caller, experiment_id) -> Experiment:
    try:
        pk = int(experiment_id)
    except (TypeError, ValueError):
        raise MlflowError(f"Invalid experiment id {experiment_id!r}.") from None
    experiment = (
        Experiment.objects.filter(pk=pk, workspace__in=caller.workspaces().values("pk"))
        .select_related("workspace")
        .first()
    )
    if experiment is None:
        raise MlflowError(f"No experiment with id {experiment_id}.", "RESOURCE_DOES_NOT_EXIST")
    if experiment.workspace not in caller.workspaces("jobs.submit"):
        raise MlflowError("You may not start runs in this workspace.", "PERMISSION_DENIED")
    return experiment


@endpoint("POST")
def update_run(request, caller, params):
    job = find_run(caller, run_id(params), write=True)
    run_name = params.get("run_name")
    services.do_update_run(
        job,
        actor=caller.actor,
        run_name=str(run_name) if run_name else None,
        status=params.get("status"),
        end_time=params.get("end_time"),
    )
    return {"run_info": run_info(job)}


@endpoint("POST")
def log_metric(request, caller, params):
    job = find_run(caller, run_id(params), write=True)
    services.do_log_metrics(job, [services.parse_metric(params)])


@endpoint("POST")
def log_parameter(request, caller, params):
    services.do_log_params(find_run(caller, run_id(params), write=True), [params])


@endpoint("POST")
def set_tag(request, caller, params):
    services.do_set_tags(find_run(caller, run_id(params), write=True), [params])


@endpoint("POST")
def delete_tag(request, caller, params):
    services.do_delete_tag(find_run(caller, run_id(params), write=True), str(params.get("key", "")))


@endpoint("POST")
def log_batch(request, caller, params):
    job = find_run(caller, run_id(params), write=True)
    lists = {k: params.get(k) or [] for k in ("metrics", "params", "tags")}
    if not all(isinstance(v, list) and all(isinstance(i, dict) for i in v) for v in lists.values()):
        raise MlflowError("metrics, params and tags must be lists of objects.")
    services.do_log_batch(job, lists["metrics"], lists["params"], lists["tags"])


@endpoint("POST")
def log_inputs(request, caller, params):
    find_run(caller, run_id(params), write=True)  # datasets are tracked as job inputs by Studio


@endpoint("POST")
def log_outputs(request, caller, params):
    find_run(caller, run_id(params), write=True)  # a logged model names its source run already


@endpoint("GET")
def metric_history(request, caller, params):
    job = find_run(caller, run_id(params), write=False)
    key = params.get("metric_key")
    if not key:
        raise MlflowError("metric_key is required.")
    points = job_tracking.metric_history(job, key).get(key, [])
    return {
        "metrics": [
            {"key": key, "value": number(p["value"]), "timestamp": p["timestamp"], "step": p["step"]} for p in points
        ]
    }


VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL", "1", "2", "3")


@endpoint("POST", "GET")
def search_runs(request, caller, params):
    ids = [str(i) for i in listed(params, "experiment_ids")]
    try:
        pks = [int(i) for i in ids]
    except ValueError:
        raise MlflowError(f"Invalid experiment ids {ids!r}.") from None
    view_type = str(params.get("run_view_type") or "ACTIVE_ONLY")
    if view_type not in VIEW_TYPES:
        raise MlflowError(f"Invalid run_view_type {view_type!r}.")
    max_results = int_param(params.get("max_results"), "max_results", 1000, 50000)
    order_by = [str(o) for o in listed(params, "order_by")]
    runs = Job.objects.filter(experiment__in=pks, workspace__in=caller.workspaces().values("pk"))
    if caller.job is not None:
        children = RunTag.objects.filter(key=PARENT_TAG, value=caller.job.name, job__source="mlflow")
        runs = runs.filter(Q(pk=caller.job.pk) | Q(pk__in=children.values("job_id")))
    if view_type in ("DELETED_ONLY", "2"):  # Studio deletes runs for good; none are "deleted"
        runs = runs.none()
    runs = runs.select_related("workspace", "created_by").prefetch_related(*RUN_PREFETCH)
    page, token = search.search(runs, params.get("filter") or "", order_by, max_results, params.get("page_token"))
    out = {"runs": [run_dict(job) for job in page]}
    if token:
        out["next_page_token"] = token
    return out
