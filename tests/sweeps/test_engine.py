"""The optimiser side on a real Optuna study (in memory): the bandit rule, truncation, and
seeded samplers that continue their sequence when the study is loaded again."""

from __future__ import annotations

import statistics

import optuna
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from optuna.storages.journal import JournalStorage

from sweeps import engine
from sweeps.models import StudyLog
from sweeps.spec import parse_sweep_spec


def _spec(**changes):
    data = {
        "type": "sweep",
        "trial": {"command": "python t.py ${{search_space.x}}", "environment": "e:1"},
        "search_space": {"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
        "objective": {"primary_metric": "m", "goal": "maximize"},
        "sampling_algorithm": {"type": "random", "seed": 5},
        **changes,
    }
    return parse_sweep_spec(data)


def _run(study, curve):
    """A trial reporting `curve` step by step; the step at which it was stopped, or None."""
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    for step, value in enumerate(curve):
        if engine.report(study, trial.number, [(step, value)]):
            engine.tell(study, trial.number, None, "pruned")
            return step
    engine.tell(study, trial.number, curve[-1], "complete")
    return None


def test_bandit_stops_a_trial_outside_the_slack_of_the_best():
    spec = _spec(early_termination={"type": "bandit", "slack_factor": 0.2, "delay_evaluation": 1})
    study = optuna.create_study(direction="maximize", pruner=engine.pruner(spec))
    assert _run(study, [0.5, 0.8, 0.9]) is None
    assert _run(study, [0.1, 0.7, 0.85]) is None, "0.7 is within 0.8 / 1.2; step 0 is before the delay"
    assert _run(study, [0.5, 0.6, 0.95]) == 1, "0.6 < 0.8 / 1.2"
    minimize = _spec(
        objective={"primary_metric": "m", "goal": "minimize"},
        early_termination={"type": "bandit", "slack_amount": 0.1},
    )
    study = optuna.create_study(direction="minimize", pruner=engine.pruner(minimize))
    assert _run(study, [1.0, 0.5]) is None
    assert _run(study, [1.05, 0.7]) == 1


def test_truncation_stops_the_worst_share():
    spec = _spec(early_termination={"type": "truncation_selection", "truncation_percentage": 50})
    study = optuna.create_study(direction="maximize", pruner=engine.pruner(spec))
    for value in (0.2, 0.4, 0.6, 0.8):
        _run(study, [value, value])
    assert _run(study, [0.1, 0.1]) == 0
    assert _run(study, [0.9, 0.9]) is None


@pytest.fixture
def journal(db):
    """Studies kept in the database's journal (`StudyLog`), none cached from an earlier test."""
    engine.forget()
    yield
    engine.forget()


def test_a_seeded_study_loaded_again_does_not_repeat_its_values(journal):
    spec = _spec()
    engine.study(spec, "s1", create=True)
    first = [engine.ask(engine.study(spec, "s1"), spec)[1]["x"] for _ in range(3)]
    engine.study(spec, "s2", create=True)
    second = [engine.ask(engine.study(spec, "s2"), spec)[1]["x"] for _ in range(3)]
    assert first == second and len(set(first)) == 3


def _storage(name: str) -> JournalStorage:
    """The study's storage as another process opens it (its journal, replayed from the database)."""
    return JournalStorage(engine.DatabaseJournal(name))


def _bowl(values: dict) -> float:
    """A known function, minimum 0 at (0.3, 0.7, 0.2)."""
    return (values["x"] - 0.3) ** 2 + (values["y"] - 0.7) ** 2 + (values["z"] - 0.2) ** 2


def _best_after(algorithm: str, seed: int, budget: int) -> float:
    """Drive the engine as the service does: the study loaded afresh for every ask and every tell."""
    spec = _spec(
        search_space={k: {"type": "uniform", "min_value": 0, "max_value": 1} for k in "xyz"},
        objective={"primary_metric": "m", "goal": "minimize"},
        sampling_algorithm={"type": algorithm},
        trial={"command": "python t.py ${{search_space.x}}", "environment": "e:1"},
    )
    spec.seed = seed  # Azure's bayesian takes no seed; seeding TPE here makes the comparison repeatable
    name = f"{algorithm}-{seed}"
    engine.study(spec, name, create=True)
    best = float("inf")
    for _ in range(budget):
        number, values = engine.ask(engine.study(spec, name), spec)
        best = min(best, _bowl(values))
        engine.tell(engine.study(spec, name), number, _bowl(values), "complete")
    return best


def test_bayesian_beats_random_within_the_same_budget_on_the_median_over_seeds(journal):
    random = [_best_after("random", seed, 30) for seed in range(5)]
    bayesian = [_best_after("bayesian", seed, 30) for seed in range(5)]
    assert len(set(random)) == 5, "each seed searches its own points"
    assert statistics.median(bayesian) < statistics.median(random) / 2, (bayesian, random)


def test_sweeps_with_neighbouring_seeds_share_no_point(journal):
    points = {}
    for seed in (1, 2):
        spec = _spec(sampling_algorithm={"type": "random", "seed": seed})
        engine.study(spec, f"s{seed}", create=True)
        points[seed] = {engine.ask(engine.study(spec, f"s{seed}"), spec)[1]["x"] for _ in range(5)}
    assert not points[1] & points[2]


def test_bandit_stops_a_poor_trial_running_ahead_once_a_better_one_reaches_its_steps():
    spec = _spec(early_termination={"type": "bandit", "slack_factor": 0.2})
    study = optuna.create_study(direction="maximize", pruner=engine.pruner(spec))
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    poor, good = study.ask(dist), study.ask(dist)
    assert not engine.report(study, poor.number, [(0, 0.1), (1, 0.2), (2, 0.3)]), "nobody to compare with yet"
    engine.record(study, good.number, [(0, 0.4), (1, 0.8)])
    assert engine.should_stop(study, poor.number), "its step 1 is far below the good trial's"
    assert not engine.should_stop(study, good.number)


def test_trials_told_from_the_locked_read_end_as_study_tell_ends_them(journal):
    spec = _spec()
    engine.study(spec, "told", create=True)
    numbers = [engine.ask(engine.open_study(spec, "told")[0], spec)[0] for _ in range(4)]
    assert numbers == [0, 1, 2, 3], "new trials, numbered in order (no queued trial is looked for)"
    study, asked = engine.open_study(spec, "told")
    engine.tell(study, 0, 0.75, "complete", known=asked[0])
    engine.tell(study, 1, None, "fail", known=asked[1])
    engine.tell(study, 2, float("nan"), "complete", known=asked[2])
    engine.tell(study, 2, 0.5, "complete")  # told again: the first holds
    engine.forget()  # another process: the stored trials, not this one's cache
    stored = optuna.load_study(study_name="told", storage=_storage("told")).get_trials(deepcopy=False)
    assert [(t.state, t.values) for t in stored] == [
        (optuna.trial.TrialState.COMPLETE, [0.75]),
        (optuna.trial.TrialState.FAIL, None),
        (optuna.trial.TrialState.FAIL, None),
        (optuna.trial.TrialState.RUNNING, None),
    ]
    assert all(t.datetime_complete for t in stored[:3])


def test_a_bayesian_study_asks_on_from_trials_told_from_the_locked_read(journal):
    spec = _spec(sampling_algorithm={"type": "bayesian"})
    engine.study(spec, "tpe", create=True)
    for _ in range(12):  # TPE models the told values past its 10 startup trials
        study, _asked = engine.open_study(spec, "tpe")
        number, values = engine.ask(study, spec)
        study, asked = engine.open_study(spec, "tpe")
        engine.tell(study, number, -abs(values["x"] - 0.2), "complete", known=asked[number])
    study, _asked = engine.open_study(spec, "tpe")
    assert study.best_value == max(t.value for t in study.get_trials(deepcopy=False))
    assert len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))) == 12


def test_what_a_rolled_back_transaction_asked_is_forgotten_by_the_process_that_asked_it(journal):
    spec = _spec()
    engine.study(spec, "rolled", create=True)
    engine.ask(engine.study(spec, "rolled"), spec)
    with pytest.raises(RuntimeError), transaction.atomic(), engine.locked("rolled"):
        engine.ask(engine.study(spec, "rolled"), spec)
        raise RuntimeError("the advance failed after asking")
    study, trials = engine.open_study(spec, "rolled")
    assert [t.number for t in trials] == [0], "the second ask rolled back with its transaction"
    assert engine.ask(study, spec)[0] == 1, "and its number is asked again"
    assert list(StudyLog.objects.filter(study_name="rolled").values_list("number", flat=True)) == list(
        range(StudyLog.objects.filter(study_name="rolled").count())
    ), "entries are numbered without a gap"


def test_two_processes_asking_in_turn_number_their_entries_and_trials_one_after_another(journal):
    """Each appends after entries its replay has not read yet (the other's); none is lost."""
    spec = _spec()
    engine.study(spec, "turns", create=True)
    first = optuna.load_study(study_name="turns", storage=_storage("turns"))
    second = optuna.load_study(study_name="turns", storage=_storage("turns"))
    numbers = [engine.ask(study, spec)[0] for study in (first, second, first, second)]
    assert numbers == [0, 1, 2, 3]
    entries = list(StudyLog.objects.filter(study_name="turns").order_by("number").values_list("number", flat=True))
    assert entries == list(range(len(entries)))
    assert len(optuna.load_study(study_name="turns", storage=_storage("turns")).trials) == 4


def test_under_the_lock_the_journal_reads_the_database_once_and_then_only_its_own_entries(journal):
    """Optuna asks the journal for new entries before each read and after each write; under the
    sweep's lock nobody else appends, so one query per locked piece of work is enough, and another
    process's entries are read at the next one."""
    spec = _spec()
    engine.study(spec, "once", create=True)
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), engine.locked("once"):
        study, asked = engine.open_study(spec, "once")
        number, _values = engine.ask(study, spec)
        engine.tell(engine.study(spec, "once"), number, 0.5, "complete")
        engine.ask(engine.study(spec, "once"), spec)
    reads = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and "sweeps_studylog" in q["sql"]
    ]
    assert len(reads) == 1, reads
    other = optuna.load_study(study_name="once", storage=_storage("once"))  # another process
    assert [t.state for t in other.trials] == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING]
    engine.ask(other, spec)
    with transaction.atomic(), engine.locked("once"):
        study, asked = engine.open_study(spec, "once")
        assert [t.number for t in asked] == [0, 1, 2], "the other process's trial is read at the next lock"
        assert engine.ask(study, spec)[0] == 3
    assert len(engine.study(spec, "once").trials) == 4, "outside a lock every read asks the database"
