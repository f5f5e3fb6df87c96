"""One decorator for every MLflow endpoint: method check, caller, JSON body or query, MLflow's
error shape. Views stay small and call tracking.services."""

from __future__ import annotations

import json
from functools import wraps

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from jobs.models import Job
from studio.errors import Conflict
from tracking.auth import Caller, caller_for
from tracking.errors import MlflowError


def endpoint(*methods: str, raw: bool = False):
    """`view(request, caller, params, **kwargs)` returning a dict (JSON) or, with raw=True, a
    response. CSRF is checked by caller_for for cookie sessions only (tokens need none)."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, ws: str | None = None, **kwargs):
            try:
                if request.method not in methods:
                    raise MlflowError(f"Use {' or '.join(methods)}.", "ENDPOINT_NOT_FOUND", status=405)
                caller = caller_for(request, ws)
                # MLflow's client sends GET parameters in the query, everything else (DELETE too)
                # as a JSON body.
                if request.method == "GET" or raw or (request.method == "DELETE" and not request.body):
                    params = request.GET
                else:
                    params = _json(request)
                result = view(request, caller, params, **kwargs)
                return result if raw else JsonResponse(result or {})
            except MlflowError as exc:
                return JsonResponse(exc.payload(), status=exc.status)
            except Conflict as exc:
                return JsonResponse(
                    {"error_code": "RESOURCE_ALREADY_EXISTS", "message": " ".join(exc.messages)}, status=400
                )
            except ValidationError as exc:
                return JsonResponse(
                    {"error_code": "INVALID_PARAMETER_VALUE", "message": " ".join(exc.messages)}, status=400
                )

        return wrapper

    return decorate


def _json(request) -> dict:
    try:
        params = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise MlflowError("The body is not valid JSON.", "MALFORMED_REQUEST") from None
    if not isinstance(params, dict):
        raise MlflowError("The body must be a JSON object.", "MALFORMED_REQUEST")
    return params


def run_id(params) -> str:
    value = params.get("run_id") or params.get("run_uuid")
    if not value or not isinstance(value, str):
        raise MlflowError("run_id is required.")
    return value


def find_run(caller: Caller, name: str, *, write: bool) -> Job:
    """The run, fetched through the caller's workspaces (404 outside them, 403 when only read)."""
    if caller.job is not None:
        job = caller.job if caller.job.name == name else None
        if job is None:
            other = (
                Job.objects.filter(workspace=caller.job.workspace_id, name=name)
                .select_related("workspace", "created_by")
                .first()
            )
            if other is not None and not caller.is_own_child(other):
                raise MlflowError(f"A job's token reaches only its own run, not {name}.", "PERMISSION_DENIED")
            job = other
    else:
        matches = list(
            Job.objects.filter(workspace__in=caller.workspaces().values("pk"), name=name).select_related(
                "workspace", "created_by"
            )[:2]
        )
        if len(matches) > 1:
            raise MlflowError(f"Run {name} exists in several of your workspaces: use <server>/mlflow/w/<workspace>.")
        job = matches[0] if matches else None
    if job is None:
        raise MlflowError(f"Run '{name}' not found.", "RESOURCE_DOES_NOT_EXIST")
    if write and not caller.can_write_run(job):
        raise MlflowError(f"Only the run's own job or its submitter may write to run {name}.", "PERMISSION_DENIED")
    return job


def int_param(value, what: str, default: int, maximum: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise MlflowError(f"{what} must be an integer, not {value!r}.") from None
    if number < 1 or number > maximum:
        raise MlflowError(f"{what} must be between 1 and {maximum}, not {number}.")
    return number


def listed(params, key: str) -> list:
    """A repeated field: a JSON list, or repeated query parameters on GET."""
    if hasattr(params, "getlist"):
        return params.getlist(key)
    value = params.get(key) or []
    return [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
