"""The JSON shapes of MLflow's REST API for runs, experiments and logged models."""

from __future__ import annotations

from django.db.models import Prefetch

from jobs.models import Experiment, Job
from tracking.artifacts import model_artifact_uri, run_artifact_uri
from tracking.models import LoggedModel
from tracking.search import RUN_STATUS


def ms(dt) -> int | None:
    return int(dt.timestamp() * 1000) if dt else None


def number(value: float | None):
    return "NaN" if value is None else value  # MLflow's JSON spells a missing number NaN


def run_info(job: Job) -> dict:
    return {
        "run_id": job.name,
        "run_uuid": job.name,
        "run_name": job.display_name or job.name,
        "experiment_id": str(job.experiment_id),
        "user_id": job.created_by.get_username() if job.created_by else "",
        "status": RUN_STATUS.get(job.status, "RUNNING"),
        "start_time": ms(job.started_at or job.created_at),
        "end_time": ms(job.ended_at),
        "artifact_uri": run_artifact_uri(job),
        "lifecycle_stage": "active",
    }


def run_dict(job: Job) -> dict:
    """Uses job.latest_metrics/params/run_tags/logged_models: prefetch them for many runs."""
    tags = {k: str(v) for k, v in (job.tags or {}).items()}  # the job's submitted tags are run tags
    tags.update({t.key: t.value for t in job.run_tags.all()})
    tags["mlflow.runName"] = job.display_name or job.name
    if job.created_by:
        tags.setdefault("mlflow.user", job.created_by.get_username())
    return {
        "info": run_info(job),
        "data": {
            "metrics": [
                {"key": m.key, "value": number(m.value), "timestamp": m.timestamp, "step": m.step}
                for m in job.latest_metrics.all()
            ],
            "params": [{"key": p.key, "value": p.value} for p in job.params.all()],
            "tags": [{"key": k, "value": v} for k, v in sorted(tags.items())],
        },
        "inputs": {},
        "outputs": {"model_outputs": [{"model_id": m.model_id, "step": 0} for m in job.logged_models.all()]},
    }


# A run lists only its logged models' ids: their JSON params and tags stay in the database.
RUN_PREFETCH = (
    "latest_metrics",
    "params",
    "run_tags",
    Prefetch("logged_models", queryset=LoggedModel.objects.only("pk", "model_id", "source_run_id", "created_at")),
)


def experiment_dict(experiment: Experiment) -> dict:
    return {
        "experiment_id": str(experiment.pk),
        "name": experiment.name,
        "artifact_location": f"mlflow-artifacts:/{experiment.workspace.name}/experiments/{experiment.pk}",
        "lifecycle_stage": "active",
        "creation_time": ms(experiment.created_at),
        "last_update_time": ms(experiment.created_at),
        "tags": [],
    }


def logged_model_dict(model: LoggedModel) -> dict:
    return {
        "info": {
            "model_id": model.model_id,
            "experiment_id": str(model.experiment_id),
            "name": model.name,
            "artifact_uri": model_artifact_uri(model),
            "creation_timestamp_ms": ms(model.created_at),
            "last_updated_timestamp_ms": ms(model.updated_at),
            "status": model.status,
            "creator_id": model.created_by_id or 0,
            "model_type": model.model_type,
            "source_run_id": model.source_run.name if model.source_run else "",
            "tags": [{"key": k, "value": v} for k, v in sorted(model.tags.items())],
        },
        "data": {
            "params": [{"key": k, "value": v} for k, v in sorted(model.params.items())],
            "metrics": [],
        },
    }
