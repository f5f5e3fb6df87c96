"""The MLflow tracking REST subset (`/mlflow/api/2.0/mlflow/...`) that `mlflow.log_metric`,
`log_param(s)`, `set_tag(s)`, `log_metrics` and `start_run`/`end_run` use, so unchanged MLflow
scripts record into Studio. Errors use MLflow's shape: {"error_code": ..., "message": ...}.

Who may call: a job's own script with its job-scoped token (that run only, read and write), or a
member with a personal token or session (read with workspace.view, write with jobs.submit).
"""

from __future__ import annotations

import json
from functools import wraps

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions

from jobs import tracking
from jobs.models import Experiment, Job, JobStatus, Param, RunTag
from jobs.views_metrics import MlflowLinkView
from studio.authentication import BearerTokenAuthentication
from studio.models import Workspace
from studio.permissions import can

# MLflow run statuses for our job statuses.
RUN_STATUS = {
    JobStatus.NOT_STARTED: "SCHEDULED",
    JobStatus.QUEUED: "SCHEDULED",
    JobStatus.PREPARING: "SCHEDULED",
    JobStatus.RUNNING: "RUNNING",
    JobStatus.FINALIZING: "RUNNING",
    JobStatus.COMPLETED: "FINISHED",
    JobStatus.FAILED: "FAILED",
    JobStatus.CANCELED: "KILLED",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Caller:
    """Who is calling: a job (its token) or a user."""

    def __init__(self, job: Job | None = None, user=None):
        self.job, self.user = job, user

    def may(self, job: Job, write: bool) -> bool:
        if self.job is not None:
            return self.job.pk == job.pk
        return can(self.user, job.workspace, "jobs.submit" if write else "workspace.view")


def _caller(request) -> Caller:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer ") and header.split(None, 1)[1].startswith(tracking.JOB_TOKEN_PREFIX):
        job = tracking.job_for_token(header.split(None, 1)[1].strip())
        if job is None:
            raise ApiError(401, "UNAUTHENTICATED", "This job token is invalid or its job has ended.")
        return Caller(job=job)
    if header:
        try:
            result = BearerTokenAuthentication().authenticate(request)
        except drf_exceptions.AuthenticationFailed as exc:
            raise ApiError(401, "UNAUTHENTICATED", str(exc.detail)) from None
        if result:
            return Caller(user=result[0])
    if request.user.is_authenticated:
        return Caller(user=request.user)
    raise ApiError(401, "UNAUTHENTICATED", "Send a job token or a personal access token as 'Bearer <token>'.")


def endpoint(*methods: str):
    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request):
            try:
                if request.method not in methods:
                    raise ApiError(405, "ENDPOINT_NOT_FOUND", f"Use {' or '.join(methods)}.")
                caller = _caller(request)
                if request.method == "GET":
                    params = request.GET
                else:
                    try:
                        params = json.loads(request.body or b"{}")
                    except (ValueError, UnicodeDecodeError):
                        raise ApiError(400, "MALFORMED_REQUEST", "The body is not valid JSON.") from None
                    if not isinstance(params, dict):
                        raise ApiError(400, "MALFORMED_REQUEST", "The body must be a JSON object.")
                return JsonResponse(view(request, caller, params) or {})
            except ApiError as exc:
                return JsonResponse({"error_code": exc.code, "message": exc.message}, status=exc.status)
            except tracking.TrackingError as exc:
                status = 404 if exc.mlflow_code == "RESOURCE_DOES_NOT_EXIST" else 400
                return JsonResponse({"error_code": exc.mlflow_code, "message": " ".join(exc.messages)}, status=status)

        return wrapper

    return decorate


def _job(caller: Caller, run_id, *, write: bool) -> Job:
    if not run_id:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "run_id is required.")
    if caller.job is not None:
        job = caller.job if caller.job.name == run_id else None
    else:
        workspaces = Workspace.objects.for_user(caller.user).values("pk")
        matches = list(Job.objects.filter(workspace__in=workspaces, name=run_id).select_related("workspace")[:2])
        if len(matches) > 1:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} exists in several of your workspaces.")
        job = matches[0] if matches else None
    if job is None:
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Run '{run_id}' not found.")
    if not caller.may(job, write):
        raise ApiError(403, "PERMISSION_DENIED", f"You may not {'write to' if write else 'read'} run {run_id}.")
    return job


def _ms(dt) -> int | None:
    return int(dt.timestamp() * 1000) if dt else None


def _mlflow_value(value: float | None):
    return "NaN" if value is None else value  # MLflow's JSON spells a missing number NaN


def run_dict(job: Job) -> dict:
    return {
        "info": {
            "run_id": job.name,
            "run_uuid": job.name,
            "run_name": job.display_name or job.name,
            "experiment_id": str(job.experiment_id),
            "user_id": job.created_by.get_username() if job.created_by else "",
            "status": RUN_STATUS.get(job.status, "RUNNING"),
            "start_time": _ms(getattr(job, "started_at", None) or job.created_at),
            "end_time": _ms(getattr(job, "ended_at", None)),
            "artifact_uri": "",
            "lifecycle_stage": "active",
        },
        "data": {
            "metrics": [
                {
                    "key": m.key,
                    "value": _mlflow_value(m.value),
                    "timestamp": m.timestamp,
                    "step": m.step,
                }
                for m in tracking.latest_points(job)
            ],
            "params": [{"key": p.key, "value": p.value} for p in Param.objects.filter(job=job)],
            "tags": [{"key": t.key, "value": t.value} for t in RunTag.objects.filter(job=job)]
            + [{"key": "mlflow.runName", "value": job.display_name or job.name}],
        },
        "inputs": {},
    }


def experiment_dict(experiment: Experiment) -> dict:
    return {
        "experiment_id": str(experiment.pk),
        "name": experiment.name,
        "artifact_location": "",
        "lifecycle_stage": "active",
        "creation_time": _ms(experiment.created_at),
        "last_update_time": _ms(experiment.created_at),
        "tags": [],
    }


def _experiments(caller: Caller):
    if caller.job is not None:
        return Experiment.objects.filter(pk=caller.job.experiment_id)
    return Experiment.objects.filter(workspace__in=Workspace.objects.for_user(caller.user).values("pk"))


@endpoint("GET")
def get_run(request, caller, params):
    return {"run": run_dict(_job(caller, params.get("run_id") or params.get("run_uuid"), write=False))}


@endpoint("POST")
def update_run(request, caller, params):
    # Studio owns the job's status (the runner sets it from the process); a script's end_run()
    # is acknowledged but does not end the job early.
    job = _job(caller, params.get("run_id") or params.get("run_uuid"), write=True)
    info = run_dict(job)["info"]
    if params.get("run_name") and caller.job is None:
        Job.objects.filter(pk=job.pk).update(display_name=str(params["run_name"])[:255])
        info["run_name"] = str(params["run_name"])[:255]
    return {"run_info": info}


@endpoint("POST")
def create_run(request, caller, params):
    if caller.job is not None:
        raise ApiError(
            400,
            "INVALID_PARAMETER_VALUE",
            f"This job is already the MLflow run {caller.job.name} (MLFLOW_RUN_ID); nested or extra runs are not "
            "supported. Call mlflow.start_run() without arguments, or log directly.",
        )
    raise ApiError(400, "INVALID_PARAMETER_VALUE", "Runs are created by submitting a job in Studio.")


@endpoint("POST")
def log_metric(request, caller, params):
    job = _job(caller, params.get("run_id") or params.get("run_uuid"), write=True)
    tracking.log_metrics(job, [tracking.parse_metric(params)])


@endpoint("POST")
def log_parameter(request, caller, params):
    job = _job(caller, params.get("run_id") or params.get("run_uuid"), write=True)
    tracking.log_params(job, [params])


@endpoint("POST")
def set_tag(request, caller, params):
    job = _job(caller, params.get("run_id") or params.get("run_uuid"), write=True)
    tracking.set_tags(job, [params])


@endpoint("POST")
def delete_tag(request, caller, params):
    job = _job(caller, params.get("run_id"), write=True)
    tracking.delete_tag(job, str(params.get("key", "")))


@endpoint("POST")
def log_batch(request, caller, params):
    job = _job(caller, params.get("run_id"), write=True)
    lists = {k: params.get(k) or [] for k in ("metrics", "params", "tags")}
    if not all(isinstance(v, list) and all(isinstance(i, dict) for i in v) for v in lists.values()):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "metrics, params and tags must be lists of objects.")
    tracking.log_batch(job, lists["metrics"], lists["params"], lists["tags"])


@endpoint("POST")
def log_inputs(request, caller, params):
    _job(caller, params.get("run_id"), write=True)  # datasets are tracked as job inputs by Studio


@endpoint("GET")
def metric_history(request, caller, params):
    job = _job(caller, params.get("run_id") or params.get("run_uuid"), write=False)
    key = params.get("metric_key")
    if not key:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "metric_key is required.")
    points = tracking.metric_history(job, key).get(key, [])
    return {
        "metrics": [
            {
                "key": key,
                "value": _mlflow_value(p["value"]),
                **{k: p[k] for k in ("timestamp", "step")},
            }
            for p in points
        ]
    }


@endpoint("GET")
def get_experiment(request, caller, params):
    experiment = _experiments(caller).filter(pk=_int(params.get("experiment_id"))).first()
    if experiment is None:
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"No experiment with id {params.get('experiment_id')}.")
    return {"experiment": experiment_dict(experiment)}


@endpoint("GET")
def get_experiment_by_name(request, caller, params):
    matches = list(_experiments(caller).filter(name=params.get("experiment_name", ""))[:2])
    if not matches:
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"No experiment named {params.get('experiment_name')!r}.")
    if len(matches) > 1:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "Several of your workspaces have an experiment of that name.")
    return {"experiment": experiment_dict(matches[0])}


@endpoint("POST")
def create_experiment(request, caller, params):
    # set_experiment() of the job's own experiment name finds it by name first; anything else
    # would move the run out of the job's experiment, which Studio does not allow.
    raise ApiError(400, "INVALID_PARAMETER_VALUE", "Experiments are created by submitting jobs to them in Studio.")


@endpoint("POST", "GET")
def search_runs(request, caller, params):
    ids = params.get("experiment_ids") or []
    if isinstance(ids, str):
        ids = [ids]
    jobs = Job.objects.filter(experiment__in=_experiments(caller).filter(pk__in=[_int(i) for i in ids]))
    if caller.job is not None:
        jobs = jobs.filter(pk=caller.job.pk)
    limit = min(_int(params.get("max_results") or 100), 1000)
    return {"runs": [run_dict(job) for job in jobs.select_related("created_by")[:limit]]}


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"{value!r} is not a valid id.") from None


P = "api/2.0/mlflow/"
urlpatterns = [
    path("", MlflowLinkView.as_view(), name="mlflow_link"),
    path(P + "runs/get", get_run),
    path(P + "runs/update", update_run),
    path(P + "runs/create", create_run),
    path(P + "runs/log-metric", log_metric),
    path(P + "runs/log-parameter", log_parameter),
    path(P + "runs/set-tag", set_tag),
    path(P + "runs/delete-tag", delete_tag),
    path(P + "runs/log-batch", log_batch),
    path(P + "runs/log-inputs", log_inputs),
    path(P + "runs/search", search_runs),
    path(P + "metrics/get-history", metric_history),
    path(P + "experiments/get", get_experiment),
    path(P + "experiments/get-by-name", get_experiment_by_name),
    path(P + "experiments/create", create_experiment),
]
