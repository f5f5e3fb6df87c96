"""Every state change the MLflow API makes: metrics (with the latest-metrics table), params,
tags, runs started and ended from outside a job, experiments, logged models. Views call these;
nothing else writes these rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jobs import notices
from jobs.models import FINAL_STATUSES, Experiment, Job, JobStatus, LatestMetric, Metric, Param, RunTag
from jobs.names import generate_job_name
from studio import activity
from tracking.errors import MlflowError
from tracking.models import LoggedModel

MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS = 1000, 100, 100
MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
FLOAT_MAX = 1.7976931348623157e308
# A short grace after a job ends lets the last flush of a finishing script land.
WRITE_GRACE_SECONDS = 300
# MLflow's end states for runs started through the API (`mlflow.end_run(status=...)`).
END_STATUS = {"FINISHED": JobStatus.COMPLETED, "FAILED": JobStatus.FAILED, "KILLED": JobStatus.CANCELED}


@dataclass
class MetricIn:
    key: str
    value: float | None
    timestamp: int
    step: int


def clean_key(key, what: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise MlflowError(f"Invalid {what} name {key!r}: 1–{MAX_KEY} characters.")
    if key.startswith("/") or ".." in key.split("/") or "\x00" in key:
        raise MlflowError(f"Invalid {what} name {key!r}: no leading '/', '..' segments or NUL.")
    return key


def _int(value, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise MlflowError(f"{what} must be an integer, not {value!r}.") from None
    if abs(number) >= 2**63:
        raise MlflowError(f"{what} {value!r} is out of range.")
    return number


def parse_metric(data: dict) -> MetricIn:
    key = clean_key(data.get("key"), "metric")
    raw = data.get("value")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise MlflowError(f"Metric {key!r} has a value that is not a number: {raw!r}.") from None
    if math.isnan(value):
        value = None
    elif math.isinf(value):
        value = math.copysign(FLOAT_MAX, value)
    timestamp = _int(data.get("timestamp") or int(timezone.now().timestamp() * 1000), f"Metric {key!r}: timestamp")
    step = _int(data.get("step") or 0, f"Metric {key!r}: step")
    return MetricIn(key, value, timestamp, step)


def check_writable(job: Job) -> None:
    if job.status in FINAL_STATUSES and job.ended_at:
        if (timezone.now() - job.ended_at).total_seconds() > WRITE_GRACE_SECONDS:
            raise MlflowError(f"Run {job.name} is {job.status}; it no longer accepts data.", "INVALID_STATE")


def _update_latest(job: Job, metrics: list[MetricIn]) -> None:
    """Fold a batch into the latest-metrics rows: last point by (step, timestamp), later writes
    winning ties, plus running min/max/count. Rows are locked, so two writers cannot lose one."""
    batch: dict[str, dict] = {}
    for m in metrics:
        agg = batch.setdefault(m.key, {"last": m, "min": None, "max": None, "count": 0})
        if (m.step, m.timestamp) >= (agg["last"].step, agg["last"].timestamp):
            agg["last"] = m
        if m.value is not None:
            agg["min"] = m.value if agg["min"] is None else min(agg["min"], m.value)
            agg["max"] = m.value if agg["max"] is None else max(agg["max"], m.value)
        agg["count"] += 1
    existing = {row.key: row for row in LatestMetric.objects.select_for_update().filter(job=job, key__in=list(batch))}
    new, changed = [], []
    for key, agg in batch.items():
        last = agg["last"]
        row = existing.get(key)
        if row is None:
            new.append(
                LatestMetric(
                    job=job,
                    key=key,
                    value=last.value,
                    step=last.step,
                    timestamp=last.timestamp,
                    min=agg["min"],
                    max=agg["max"],
                    count=agg["count"],
                )
            )
            continue
        if (last.step, last.timestamp) >= (row.step, row.timestamp):
            row.value, row.step, row.timestamp = last.value, last.step, last.timestamp
        row.min = agg["min"] if row.min is None else (row.min if agg["min"] is None else min(row.min, agg["min"]))
        row.max = agg["max"] if row.max is None else (row.max if agg["max"] is None else max(row.max, agg["max"]))
        row.count += agg["count"]
        changed.append(row)
    if new:
        LatestMetric.objects.bulk_create(new)
    if changed:
        LatestMetric.objects.bulk_update(changed, ["value", "step", "timestamp", "min", "max", "count"])


def _insert_points(job: Job, metrics: list[MetricIn]) -> None:
    """The points as rows, in one statement and without a model instance each: building and
    preparing 1000 Metric objects was most of a log_batch call's CPU time."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("job_id", "key", "value", "step", "timestamp", "created_at"))
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    table = quote(Metric._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column (as Django's own bulk_create sends them), not 6000 parameters.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest(%s::bigint[], %s::varchar[], "
                "%s::double precision[], %s::bigint[], %s::bigint[], %s::timestamptz[])",
                [
                    [job.pk] * len(metrics),
                    [m.key for m in metrics],
                    [m.value for m in metrics],
                    [m.step for m in metrics],
                    [m.timestamp for m in metrics],
                    [created] * len(metrics),
                ],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)",
                [(job.pk, m.key, m.value, m.step, m.timestamp, created) for m in metrics],
            )


def do_log_metrics(job: Job, metrics: list[MetricIn]) -> None:
    """Store the points and fold them into the latest-metrics table, in one transaction. A
    concurrent first write of the same key retries once (the second sees the first's row)."""
    check_writable(job)
    if not metrics:
        return
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                _insert_points(job, metrics)
                _update_latest(job, metrics)
            return
        except IntegrityError:
            if attempt == 2:
                raise


@transaction.atomic
def do_log_params(job: Job, params: list[dict]) -> None:
    """Params are immutable, as in MLflow: logging the same key again with another value fails."""
    check_writable(job)
    for item in params:
        key = clean_key(item.get("key"), "param")
        value = str(item.get("value", ""))
        if len(value) > MAX_PARAM_VALUE:
            raise MlflowError(f"Param {key!r} is longer than {MAX_PARAM_VALUE} characters.")
        existing = Param.objects.filter(job=job, key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    Param.objects.create(job=job, key=key, value=value)
                continue
            except IntegrityError:
                existing = Param.objects.get(job=job, key=key)
        if existing.value != value:
            raise MlflowError(
                f"Param {key!r} was already logged with value {existing.value!r}; params cannot change "
                f"(tried {value!r})."
            )


@transaction.atomic
def do_set_tags(job: Job, tags: list[dict]) -> None:
    check_writable(job)
    for item in tags:
        key = clean_key(item.get("key"), "tag")
        value = str(item.get("value", ""))[:MAX_TAG_VALUE]
        if key == "mlflow.runName":  # MLflow keeps the run name as this tag too
            Job.objects.filter(pk=job.pk).update(display_name=value[:255])
            job.display_name = value[:255]
            continue
        RunTag.objects.update_or_create(job=job, key=key, defaults={"value": value})


def do_delete_tag(job: Job, key: str) -> None:
    check_writable(job)
    deleted, _ = RunTag.objects.filter(job=job, key=key).delete()
    if not deleted:
        raise MlflowError(f"No tag {key!r} on run {job.name}.", "RESOURCE_DOES_NOT_EXIST")


def do_log_batch(job: Job, metrics: list[dict], params: list[dict], tags: list[dict]) -> None:
    if len(metrics) > MAX_BATCH_METRICS or len(params) > MAX_BATCH_PARAMS or len(tags) > MAX_BATCH_TAGS:
        raise MlflowError(
            f"A batch holds at most {MAX_BATCH_METRICS} metrics, {MAX_BATCH_PARAMS} params and {MAX_BATCH_TAGS} tags."
        )
    parsed = [parse_metric(m) for m in metrics]
    with transaction.atomic():
        do_log_params(job, params)
        do_set_tags(job, tags)
        do_log_metrics(job, parsed)


@transaction.atomic
def do_create_experiment(workspace, *, actor, name: str) -> Experiment:
    name = (name or "").strip()
    if not name:
        raise MlflowError("Give the experiment a name.")
    if Experiment.objects.filter(workspace=workspace, name=name).exists():
        raise MlflowError(f"Experiment '{name}' already exists.", "RESOURCE_ALREADY_EXISTS")
    experiment = Experiment(workspace=workspace, name=name, created_by=actor)
    try:
        experiment.full_clean()
    except ValidationError as exc:
        raise MlflowError(" ".join(exc.messages)) from None
    experiment.save()
    activity.record(workspace, actor, "experiment.created", name)
    return experiment


@transaction.atomic
def do_create_run(
    experiment: Experiment, *, actor, run_name: str = "", start_time: int | None = None, tags: list[dict] | None = None
) -> Job:
    """A run started by a script outside any job (a laptop, a notebook): a job with no command
    that is Running until the script ends it."""
    workspace = experiment.workspace
    name = generate_job_name()
    while Job.objects.filter(workspace=workspace, name=name).exists():
        name = generate_job_name()
    started = timezone.now()
    if start_time:
        started = datetime.fromtimestamp(_int(start_time, "start_time") / 1000, tz=UTC)
    job = Job.objects.create(
        workspace=workspace,
        name=name,
        display_name=str(run_name or "")[:255],
        experiment=experiment,
        status=JobStatus.RUNNING,
        created_by=actor,
        created_at=started,
        started_at=started,
        running_at=started,
        command="",
        environment_ref="",
        compute_name="",
        source="mlflow",
    )
    tags = [t for t in (tags or []) if isinstance(t, dict)]
    do_set_tags(job, tags)
    activity.record(workspace, actor, "run.created", job.name, experiment=experiment.name)
    return job


@transaction.atomic
def do_update_run(
    job: Job, *, actor, run_name: str | None = None, status: str | None = None, end_time: int | None = None
) -> Job:
    """Rename a run; end it if it was started through the API. A job's status belongs to its
    runner: a script's end_run() inside a job is acknowledged and changes nothing. A finished run
    may still be renamed (by its submitter; job tokens are revoked when the job ends)."""
    if run_name and run_name != job.display_name:
        job.display_name = str(run_name)[:255]
        Job.objects.filter(pk=job.pk).update(display_name=job.display_name)
        activity.record(job.workspace, actor, "run.renamed", job.name, run_name=job.display_name)
    # A run started through the API belongs to its script, which may set its end state again
    # (MlflowClient.set_terminated after the `with` block ended it).
    if status and job.source == "mlflow":
        final = END_STATUS.get(status)
        if final is not None:
            ended = timezone.now()
            if end_time:
                ended = datetime.fromtimestamp(_int(end_time, "end_time") / 1000, tz=UTC)
            job.status, job.ended_at = final, ended
            Job.objects.filter(pk=job.pk).update(status=final, ended_at=ended)
            notices.job_ended(job.pk)
            activity.record(job.workspace, actor, "run.ended", job.name, status=status)
    return job


@transaction.atomic
def do_create_logged_model(
    experiment: Experiment,
    *,
    actor,
    run: Job | None,
    name: str,
    model_type: str = "",
    params: dict | None = None,
    tags: dict | None = None,
) -> LoggedModel:
    if run is not None:
        check_writable(run)
    model = LoggedModel.objects.create(
        workspace=experiment.workspace,
        experiment=experiment,
        name=clean_key(name or "model", "model"),
        model_type=str(model_type or "")[:100],
        source_run=run,
        params={clean_key(k, "param"): str(v)[:MAX_PARAM_VALUE] for k, v in (params or {}).items()},
        tags={clean_key(k, "tag"): str(v)[:MAX_TAG_VALUE] for k, v in (tags or {}).items()},
        created_by=actor,
    )
    activity.record(
        experiment.workspace,
        actor,
        "logged_model.created",
        model.model_id,
        name=model.name,
        run=run.name if run else "-",
    )
    return model


def _touch(model: LoggedModel, fields: list[str]) -> None:
    model.updated_at = timezone.now()
    model.save(update_fields=[*fields, "updated_at"])


def do_finalize_logged_model(model: LoggedModel, status: str) -> LoggedModel:
    if status not in LoggedModel.Status.values or status == LoggedModel.Status.PENDING:
        raise MlflowError(f"A logged model is finalized as READY or FAILED, not {status!r}.")
    model.status = status
    _touch(model, ["status"])
    return model


def do_set_logged_model_tags(model: LoggedModel, tags: list[dict]) -> None:
    for item in tags:
        model.tags[clean_key(item.get("key"), "tag")] = str(item.get("value", ""))[:MAX_TAG_VALUE]
    _touch(model, ["tags"])


def do_delete_logged_model_tag(model: LoggedModel, key: str) -> None:
    if key not in model.tags:
        raise MlflowError(f"No tag {key!r} on model {model.model_id}.", "RESOURCE_DOES_NOT_EXIST")
    del model.tags[key]
    _touch(model, ["tags"])


def do_log_logged_model_params(model: LoggedModel, params: list[dict]) -> None:
    for item in params:
        model.params[clean_key(item.get("key"), "param")] = str(item.get("value", ""))[:MAX_PARAM_VALUE]
    _touch(model, ["params"])
