"""MLflow tracking for jobs: job-scoped tokens, the MLFLOW_* variables a run gets, and the
state changes behind the MLflow REST subset (metrics, params, tags).

A Studio job *is* an MLflow run: its run id is the job's name, its experiment is the job's
experiment (MLflow experiment id = the Experiment's primary key).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.utils import timezone

from jobs.models import Job, JobToken, Metric, Param, RunTag
from studio.models import hash_token

JOB_TOKEN_PREFIX = "stj_"
MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS = 1000, 100, 100
MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
FLOAT_MAX = 1.7976931348623157e308


def issue_job_token(job: Job) -> str:
    """A new token that lets `job`'s script write its own metrics; shown to the runner only."""
    raw = JOB_TOKEN_PREFIX + secrets.token_urlsafe(30)
    JobToken.objects.create(job=job, key_hash=hash_token(raw))
    return raw


def revoke_job_tokens(job: Job) -> None:
    """Called when the job reaches a final state: its script can no longer write."""
    JobToken.objects.filter(job=job, revoked_at__isnull=True).update(revoked_at=timezone.now())


def job_for_token(raw: str) -> Job | None:
    token = JobToken.objects.select_related("job", "job__workspace").filter(key_hash=hash_token(raw)).first()
    if token is None or token.revoked_at is not None:
        return None
    return token.job


def tracking_env(job: Job, server_url: str) -> dict[str, str]:
    """The environment variables that point a job's `mlflow` calls at Studio."""
    return {
        "MLFLOW_TRACKING_URI": server_url.rstrip("/") + "/mlflow",
        "MLFLOW_TRACKING_TOKEN": issue_job_token(job),
        "MLFLOW_RUN_ID": job.name,
        "MLFLOW_EXPERIMENT_NAME": job.experiment.name,
        "MLFLOW_EXPERIMENT_ID": str(job.experiment_id),
        # The job's log is the place for output; keep MLflow from probing git or the system.
        "MLFLOW_TRACKING_INSECURE_TLS": "false",
    }


class TrackingError(ValidationError):
    """An MLflow-level error: `code` is the MLflow error code (INVALID_PARAMETER_VALUE...)."""

    def __init__(self, message: str, code: str = "INVALID_PARAMETER_VALUE"):
        super().__init__(message, code=code)
        self.mlflow_code = code


@dataclass
class MetricIn:
    key: str
    value: float | None
    timestamp: int
    step: int


def _key(key, what: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise TrackingError(f"Invalid {what} name {key!r}: 1–{MAX_KEY} characters.")
    if key.startswith("/") or ".." in key.split("/"):
        raise TrackingError(f"Invalid {what} name {key!r}: no leading '/' or '..' segments.")
    return key


def parse_metric(data: dict) -> MetricIn:
    key = _key(data.get("key"), "metric")
    raw = data.get("value")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise TrackingError(f"Metric {key!r} has a value that is not a number: {raw!r}.") from None
    if math.isnan(value):
        value = None
    elif math.isinf(value):
        value = math.copysign(FLOAT_MAX, value)
    try:
        timestamp = int(data.get("timestamp") or timezone.now().timestamp() * 1000)
        step = int(data.get("step") or 0)
    except (TypeError, ValueError):
        raise TrackingError(f"Metric {key!r}: timestamp and step must be integers.") from None
    return MetricIn(key, value, timestamp, step)


def _check_writable(job: Job) -> None:
    from jobs.models import FINAL_STATUSES

    # A short grace after the end lets the last flush of a finishing script land.
    if job.status in FINAL_STATUSES and getattr(job, "ended_at", None):
        if (timezone.now() - job.ended_at).total_seconds() > 300:
            raise TrackingError(f"Run {job.name} is {job.status}; it no longer accepts data.", "INVALID_STATE")


def log_metrics(job: Job, metrics: list[MetricIn]) -> None:
    _check_writable(job)
    Metric.objects.bulk_create(
        [Metric(job=job, key=m.key, value=m.value, step=m.step, timestamp=m.timestamp) for m in metrics]
    )


@transaction.atomic
def log_params(job: Job, params: list[dict]) -> None:
    """Params are immutable, as in MLflow: logging the same key again with another value fails."""
    _check_writable(job)
    for item in params:
        key = _key(item.get("key"), "param")
        value = str(item.get("value", ""))
        if len(value) > MAX_PARAM_VALUE:
            raise TrackingError(f"Param {key!r} is longer than {MAX_PARAM_VALUE} characters.")
        existing = Param.objects.filter(job=job, key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    Param.objects.create(job=job, key=key, value=value)
                continue
            except IntegrityError:
                existing = Param.objects.get(job=job, key=key)
        if existing.value != value:
            raise TrackingError(
                f"Param {key!r} was already logged with value {existing.value!r}; params cannot change "
                f"(tried {value!r})."
            )


@transaction.atomic
def set_tags(job: Job, tags: list[dict]) -> None:
    _check_writable(job)
    for item in tags:
        key = _key(item.get("key"), "tag")
        value = str(item.get("value", ""))[:MAX_TAG_VALUE]
        RunTag.objects.update_or_create(job=job, key=key, defaults={"value": value})


def delete_tag(job: Job, key: str) -> None:
    _check_writable(job)
    deleted, _ = RunTag.objects.filter(job=job, key=key).delete()
    if not deleted:
        raise TrackingError(f"No tag {key!r} on run {job.name}.", "RESOURCE_DOES_NOT_EXIST")


def log_batch(job: Job, metrics: list[dict], params: list[dict], tags: list[dict]) -> None:
    if len(metrics) > MAX_BATCH_METRICS or len(params) > MAX_BATCH_PARAMS or len(tags) > MAX_BATCH_TAGS:
        raise TrackingError(
            f"A batch holds at most {MAX_BATCH_METRICS} metrics, {MAX_BATCH_PARAMS} params and {MAX_BATCH_TAGS} tags."
        )
    parsed = [parse_metric(m) for m in metrics]
    with transaction.atomic():
        log_params(job, params)
        set_tags(job, tags)
        log_metrics(job, parsed)


def metric_summary(job: Job) -> dict[str, dict]:
    """key -> {last, min, max, steps, last_step}, for tables, experiment columns and runs/get.

    Aggregated in the database (one query, whatever the number of points), the last value picked
    by the same order the history uses: step, then timestamp, then insertion."""
    latest = Metric.objects.filter(job=job, key=OuterRef("key")).order_by("-step", "-timestamp", "-pk")
    rows = (
        Metric.objects.filter(job=job)
        .values("key")
        .annotate(
            min=Min("value"),
            max=Max("value"),
            steps=Count("pk"),
            last=Subquery(latest.values("value")[:1]),
            last_step=Subquery(latest.values("step")[:1]),
        )
        .order_by("key")
    )
    return {r.pop("key"): r for r in rows}


def latest_points(job: Job) -> list[Metric]:
    """The last logged point of each metric (by step, timestamp, insertion), in one query."""
    latest = Metric.objects.filter(job=job, key=OuterRef("key")).order_by("-step", "-timestamp", "-pk")
    return list(Metric.objects.filter(job=job, pk=Subquery(latest.values("pk")[:1])).order_by("key"))


def metric_history(job: Job, key: str | None = None) -> dict[str, list[dict]]:
    rows = Metric.objects.filter(job=job)
    if key:
        rows = rows.filter(key=key)
    out: dict[str, list[dict]] = {}
    for m in rows.order_by("key", "step", "timestamp", "pk").values("key", "value", "step", "timestamp"):
        out.setdefault(m["key"], []).append({"step": m["step"], "value": m["value"], "timestamp": m["timestamp"]})
    return out
