"""A sweep (the optimiser state of a `type: sweep` job) and its trials (child command jobs)."""

from __future__ import annotations

from django.db import models


class Sweep(models.Model):
    """The sweep side of a parent job. The job's status is the sweep's:

        Running -> Completed (trials done, a best trial) | Failed (no trial gave a value) | Canceled

    `spec` is the validated SweepSpec; Optuna's study `study_name` lives in durable storage.
    """

    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="sweep")
    spec = models.JSONField()
    study_name = models.CharField(max_length=100, unique=True)
    best_trial = models.ForeignKey("SweepTrial", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notice = models.CharField(max_length=1000, blank=True, help_text="e.g. a trial never logged the metric")
    stop_reason = models.CharField(max_length=500, blank=True, help_text="set: no new trials are started")

    def __str__(self) -> str:
        return self.job.name


class TrialState(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    EARLY_TERMINATED = "early_terminated", "Early terminated"
    FAILED = "failed", "Failed"
    NO_METRIC = "no_metric", "No primary metric"
    CANCELED = "canceled", "Canceled"


class SweepTrial(models.Model):
    """One trial: Optuna's trial `number`, the values it ran with, and its child command job.

    running -> completed | early_terminated (pruned, its job canceled) | failed | no_metric | canceled
    """

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="trials")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="sweep_trial")
    number = models.PositiveIntegerField()
    params = models.JSONField(default=dict)
    state = models.CharField(max_length=20, choices=TrialState.choices, default=TrialState.RUNNING)
    value = models.FloatField(null=True, blank=True, help_text="the primary metric's last value")
    terminated_by = models.CharField(max_length=200, blank=True, help_text="the rule that stopped it")
    last_step = models.BigIntegerField(null=True, blank=True, help_text="last intermediate step reported")

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["sweep", "number"], name="sweeptrial_unique_number")]

    def __str__(self) -> str:
        return f"{self.sweep} #{self.number}"


class StudyLog(models.Model):
    """One entry of a sweep's Optuna journal (`engine.DatabaseJournal`): Optuna's JournalStorage
    replays a study from them (its trials, parameters, values, intermediate values). Numbered from
    0 per study; deleted with the sweep."""

    study_name = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    entry = models.TextField(help_text="the entry, as JSON")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study_name", "number"], name="studylog_unique_number")]

    def __str__(self) -> str:
        return f"{self.study_name} #{self.number}"
