"""What a job's script logs through MLflow: metrics over steps, params, tags."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Metric(models.Model):
    """One logged value of a metric (`mlflow.log_metric(key, value, step)`)."""

    # No index of its own: metric_job_key_step starts with job_id and serves the same lookups
    # (and the cascade), and every logged point no longer pays for a second index.
    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="metrics", db_index=False)
    key = models.CharField(max_length=250)
    value = models.FloatField(null=True, help_text="null for NaN")
    step = models.BigIntegerField(default=0)
    timestamp = models.BigIntegerField(help_text="milliseconds since the epoch, as MLflow sends it")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key", "step", "timestamp", "pk"]
        indexes = [models.Index(fields=["job", "key", "step"], name="metric_job_key_step")]


class LatestMetric(models.Model):
    """The last point of each metric of a run, plus min/max/count: kept up to date on every write
    (as MLflow's latest_metrics table), so runs/get, run tables and search_runs never scan a
    run's history. "Last" means the highest (step, timestamp), later writes winning ties."""

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="latest_metrics")
    key = models.CharField(max_length=250)
    value = models.FloatField(null=True, help_text="null for NaN")
    step = models.BigIntegerField(default=0)
    timestamp = models.BigIntegerField()
    min = models.FloatField(null=True)
    max = models.FloatField(null=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="latestmetric_unique_key")]
        indexes = [models.Index(fields=["key", "value"], name="latestmetric_key_value")]


class Param(models.Model):
    """A run parameter (`mlflow.log_param`); immutable once logged, as in MLflow."""

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="params")
    key = models.CharField(max_length=250)
    value = models.TextField(max_length=6000)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="param_unique_key")]


class RunTag(models.Model):
    """A run tag (`mlflow.set_tag`); may be overwritten."""

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="run_tags")
    key = models.CharField(max_length=250)
    value = models.TextField(max_length=8000)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="runtag_unique_key")]


class JobToken(models.Model):
    """A job-scoped token: lets the job's own script write its metrics, params and tags through
    the MLflow API, and nothing else. Only the sha256 is stored; revoked when the job ends."""

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
