"""A sweep running when Studio is upgraded keeps its trials: the migration to the database journal
copies its study from where Optuna kept it before (here a journal file, the old SQLite default)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import optuna
import pytest
from django.apps import apps
from django.db import connection
from optuna.storages.journal import JournalFileBackend, JournalStorage

from jobs.services import do_submit_job
from sweeps import engine
from sweeps.models import StudyLog
from sweeps.spec import SweepSpec

migration = importlib.import_module("sweeps.migrations.0002_studylog")

SWEEP = {
    "type": "sweep",
    "trial": {"command": "echo ${{search_space.x}}", "environment": "plain:1"},
    "search_space": {"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
    "objective": {"primary_metric": "m", "goal": "maximize"},
    "sampling_algorithm": {"type": "random", "seed": 3},
    "limits": {"max_total_trials": 4, "max_concurrent_trials": 2},
}


@pytest.mark.django_db
def test_a_running_sweeps_study_is_copied_from_the_old_journal_file(
    workspace, owner, plain_env, no_dispatch, tmp_path, monkeypatch
):
    job = do_submit_job(workspace, actor=owner, data=SWEEP)
    name = job.sweep.study_name
    StudyLog.objects.filter(study_name=name).delete()  # as before the upgrade: the study is elsewhere
    engine.forget()
    path = tmp_path / "optuna.journal"
    monkeypatch.setenv("STUDIO_SWEEPS_JOURNAL", str(path))
    old = optuna.create_study(
        study_name=name, storage=JournalStorage(JournalFileBackend(str(path))), direction="maximize"
    )
    for value in (0.25, None):
        trial = old.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        if value is not None:
            old.tell(trial, value)

    migration.copy_running_studies(apps, SimpleNamespace(connection=connection))

    study, trials = engine.open_study(SweepSpec.from_dict(job.sweep.spec), name)
    assert [(t.number, t.state.name, t.value) for t in trials] == [(0, "COMPLETE", 0.25), (1, "RUNNING", None)]
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert engine.ask(study, SweepSpec.from_dict(job.sweep.spec))[0] == 2, "the sweep goes on where it was"
