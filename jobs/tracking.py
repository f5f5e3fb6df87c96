"""MLflow tracking for jobs: job-scoped tokens, the MLFLOW_* variables a run gets, and the reads
the job pages make of what a run logged. The MLflow REST API that writes it is the tracking app.

A Studio job *is* an MLflow run: its run id is the job's name, its experiment is the job's
experiment (MLflow experiment id = the Experiment's primary key).
"""

from __future__ import annotations

import secrets

from django.utils import timezone

from jobs.models import Job, JobToken, LatestMetric, Metric
from studio.models import hash_token

JOB_TOKEN_PREFIX = "stj_"


def issue_job_token(job: Job) -> str:
    """A new token that lets `job`'s script write its own metrics; shown to the runner only."""
    raw = JOB_TOKEN_PREFIX + secrets.token_urlsafe(30)
    JobToken.objects.create(job=job, key_hash=hash_token(raw))
    return raw


def revoke_job_tokens(job: Job) -> None:
    """Called when the job reaches a final state: its script can no longer write."""
    JobToken.objects.filter(job=job, revoked_at__isnull=True).update(revoked_at=timezone.now())


def job_for_token(raw: str) -> Job | None:
    token = (
        JobToken.objects.select_related("job", "job__workspace", "job__created_by")
        .filter(key_hash=hash_token(raw))
        .first()
    )
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


def metric_summary(job: Job) -> dict[str, dict]:
    """key -> {last, min, max, steps, last_step}, for tables, experiment columns and runs/get:
    read from the latest-metrics table, whatever the number of points."""
    return {
        m.key: {"last": m.value, "min": m.min, "max": m.max, "steps": m.count, "last_step": m.step}
        for m in LatestMetric.objects.filter(job=job).order_by("key")
    }


def latest_points(job: Job) -> list[LatestMetric]:
    """The last logged point of each metric (by step, then timestamp)."""
    return list(LatestMetric.objects.filter(job=job).order_by("key"))


def metric_history(job: Job, key: str | None = None) -> dict[str, list[dict]]:
    rows = Metric.objects.filter(job=job)
    if key:
        rows = rows.filter(key=key)
    out: dict[str, list[dict]] = {}
    for m in rows.order_by("key", "step", "timestamp", "pk").values("key", "value", "step", "timestamp"):
        out.setdefault(m["key"], []).append({"step": m["step"], "value": m["value"], "timestamp": m["timestamp"]})
    return out
