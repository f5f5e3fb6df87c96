"""The optimiser: Optuna in ask-and-tell mode. A study's durable storage is Optuna's journal kept as
rows of Studio's own database (`StudyLog`, PostgreSQL or SQLite alike), so any process can pick a
sweep up after a restart, and the journal entries an advance writes commit or roll back with the
sweep's own rows in the same transaction.

Azure's search space functions map to Optuna distributions; the ones Optuna has no distribution
for (normal and its kin) are sampled as a uniform quantile and transformed, so every sampler,
TPE included, can still model them.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from contextlib import contextmanager
from statistics import NormalDist

import numpy as np
import optuna
from django.db import connection
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.pruners import BasePruner, NopPruner, PercentilePruner
from optuna.storages.journal import BaseJournalBackend, JournalStorage
from optuna.trial import TrialState

from sweeps.models import StudyLog
from sweeps.spec import SweepSpec

optuna.logging.set_verbosity(optuna.logging.WARNING)
QUANTILE = (1e-6, 1 - 1e-6)


class DatabaseJournal(BaseJournalBackend):
    """One study's Optuna journal in the `StudyLog` table.

    Every write to a study happens under its sweep's row lock (`services`, inside `locked`), so
    entries are numbered one after another in commit order: a reader never sees entry n + 1 without
    entry n. Reading is one indexed query for the entries this process has not replayed yet, which
    Optuna's JournalStorage asks before each of its reads and after each of its writes: about ten
    times in one advance. Under the lock, once it has read, nobody else can append, so what is new
    after that is only what this thread appended itself, and no further query is needed."""

    def __init__(self, study_name: str):
        self.study_name = study_name
        self._session: object | None = None  # the `locked` session the fields below belong to
        self._read_to = 0  # in that session: the entries before this number are replayed
        self._own: list[dict] = []  # in that session: entries appended since, not replayed yet

    def read_logs(self, log_number_from: int) -> list[dict]:
        session = _held.get((self.study_name, threading.get_ident()))
        if session is not None and session is self._session and log_number_from == self._read_to:
            new, self._own = self._own, []
            self._read_to += len(new)
            return new
        rows = StudyLog.objects.filter(study_name=self.study_name, number__gte=log_number_from).order_by("number")
        logs = [json.loads(entry) for entry in rows.values_list("entry", flat=True)]
        self._session, self._read_to, self._own = session, log_number_from + len(logs), []
        return logs

    def append_logs(self, logs: list[dict]) -> None:
        # Numbered in the statement itself: this process's replay may not have read what another
        # process appended since, and the unique (study, number) constraint refuses a clash loudly.
        table = connection.ops.quote_name(StudyLog._meta.db_table)
        with connection.cursor() as cursor:
            for log in logs:
                cursor.execute(
                    f"INSERT INTO {table} (study_name, number, entry) "
                    f"SELECT %s, COALESCE(MAX(number) + 1, 0), %s FROM {table} WHERE study_name = %s",
                    [self.study_name, json.dumps(log), self.study_name],
                )
        if self._session is not None and self._session is _held.get((self.study_name, threading.get_ident())):
            self._own.extend(logs)


# Studies loaded by this process, by name. A kept study's storage has replayed its journal, so
# loading it again reads only the entries other processes appended since (one query).
_studies: OrderedDict[str, optuna.Study] = OrderedDict()
_studies_lock = threading.Lock()
KEPT_STUDIES = 32


def forget(study_name: str | None = None) -> None:
    """Drop a kept study (all of them without a name): its replay may hold entries of a
    transaction that rolled back, or a test's database went away."""
    with _studies_lock:
        if study_name is None:
            _studies.clear()
        else:
            _studies.pop(study_name, None)


# (study name, thread) -> the `locked` session that thread is in for that study.
_held: dict[tuple[str, int], object] = {}


@contextmanager
def locked(study_name: str):
    """The work inside holds the sweep's row lock, in a transaction, on this thread: the study's
    journal reads the database once and then only what it appends itself. When the work fails the
    study is forgotten: the transaction rolls back the journal entries it wrote, which this
    process's replay has already applied."""
    key = (study_name, threading.get_ident())
    outer = _held.get(key)  # a hook may advance the sweep inside another locked piece of work
    _held[key] = object()
    try:
        yield
    except BaseException:
        forget(study_name)
        raise
    finally:
        if outer is None:
            del _held[key]
        else:
            _held[key] = object()  # a new session: the journal reads the database again first


def distributions(spec: SweepSpec) -> dict:
    out = {}
    for name, p in spec.search_space.items():
        kind = p["type"]
        if kind == "choice":
            out[name] = CategoricalDistribution(p["values"])
        elif kind == "randint":
            out[name] = IntDistribution(0, p["upper"] - 1)
        elif kind in ("uniform", "quniform"):
            out[name] = FloatDistribution(p["min_value"], p["max_value"])
        elif kind in ("loguniform", "qloguniform"):
            out[name] = FloatDistribution(math.exp(p["min_value"]), math.exp(p["max_value"]), log=True)
        else:  # normal, qnormal, lognormal, qlognormal: a quantile of the normal
            out[name] = FloatDistribution(*QUANTILE)
    return out


def values(spec: SweepSpec, params: dict) -> dict:
    """The values a trial runs with, from Optuna's raw parameters (quantised, transformed)."""
    out = {}
    for name, p in spec.search_space.items():
        raw = params[name]
        kind = p["type"]
        if kind in ("normal", "qnormal", "lognormal", "qlognormal"):
            raw = NormalDist(p["mu"], p["sigma"]).inv_cdf(raw)
            if kind.endswith("lognormal"):
                raw = math.exp(raw)
        if kind.startswith("q"):
            raw = round(raw / p["q"]) * p["q"]
        out[name] = raw
    return out


class _Grid(optuna.samplers.GridSampler):
    """Optuna's grid sampler without its stop when the grid is exhausted (a call meant for
    study.optimize); Studio's limits already cap a grid sweep at the grid's size."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def _sampler(spec: SweepSpec, asked: int):
    """A sampler for the study as it stands after `asked` trials. The study is loaded afresh each
    time it is advanced, so a seeded sampler gets a seed derived from (seed, asked): the same sweep
    asks the same values again, each load does not start the sequence over, and sweeps with seeds
    1 and 2 do not share all but one of their points (as seed + asked would make them)."""
    seed = None if spec.seed is None else int(np.random.SeedSequence([spec.seed, asked]).generate_state(1)[0])
    if spec.algorithm == "grid":
        return _Grid({n: p["values"] for n, p in spec.search_space.items()}, seed=seed)
    if spec.algorithm == "bayesian":
        return optuna.samplers.TPESampler(seed=seed)
    if spec.rule == "sobol":  # Sobol points are indexed by trial, so the seed (scrambling) stays fixed
        return optuna.samplers.QMCSampler(qmc_type="sobol", seed=spec.seed)
    return optuna.samplers.RandomSampler(seed=seed)


class BanditPruner(BasePruner):
    """Azure ML's bandit policy: stop a trial whose value at an evaluation step is outside the
    slack (a factor or an amount) of the best value any other trial reached at that step.

    Every evaluation step the trial has passed is judged, not only its last one: a trial running
    ahead of the others is stopped once they reach a step it was poor at."""

    def __init__(self, *, slack_factor=None, slack_amount=None, interval: int = 1, delay: int = 0):
        self.slack_factor, self.slack_amount, self.interval, self.delay = slack_factor, slack_amount, interval, delay

    def prune(self, study, trial) -> bool:
        if trial.last_step is None:
            return False
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        others = [t.intermediate_values for t in study.get_trials(deepcopy=False) if t.number != trial.number]
        for step, value in trial.intermediate_values.items():
            if step < self.delay or (step - self.delay) % self.interval:
                continue
            reached = [values[step] for values in others if step in values]
            if not reached:
                continue
            best = max(reached) if maximize else min(reached)
            if self.slack_factor is not None:
                limit = best / (1 + self.slack_factor) if maximize else best * (1 + self.slack_factor)
            else:
                limit = best - self.slack_amount if maximize else best + self.slack_amount
            if (value < limit) if maximize else (value > limit):
                return True
        return False


def pruner(spec: SweepSpec):
    policy = spec.early_termination
    if not policy:
        return NopPruner()
    interval, delay = policy["evaluation_interval"], policy["delay_evaluation"]
    if policy["type"] == "bandit":
        return BanditPruner(
            slack_factor=policy.get("slack_factor"),
            slack_amount=policy.get("slack_amount"),
            interval=interval,
            delay=delay,
        )
    # Median stopping is the 50th percentile; truncation keeps the best (100 - p) percent.
    percentile = 50.0 if policy["type"] == "median_stopping" else 100.0 - policy["truncation_percentage"]
    return PercentilePruner(percentile, n_startup_trials=0, n_warmup_steps=delay, interval_steps=interval)


def study(spec: SweepSpec, study_name: str, *, create: bool = False):
    """The sweep's study with a sampler for its next ask (see `open_study`)."""
    return open_study(spec, study_name, create=create)[0]


def open_study(spec: SweepSpec, study_name: str, *, create: bool = False) -> tuple[optuna.Study, list]:
    """The sweep's study with a sampler for its next ask, and its trials as they stand (one read,
    for the caller to decide on instead of reading them again). Callers hold the sweep's row lock,
    so one study object is never advanced by two threads at once."""
    if create:
        loaded = optuna.create_study(
            study_name=study_name,
            storage=JournalStorage(DatabaseJournal(study_name)),
            pruner=pruner(spec),
            direction=spec.goal,
            sampler=_sampler(spec, 0),
        )
        trials: list = []
    else:
        with _studies_lock:
            loaded = _studies.get(study_name)
        if loaded is None:
            loaded = optuna.load_study(
                study_name=study_name,
                storage=JournalStorage(DatabaseJournal(study_name)),
                pruner=pruner(spec),
                sampler=_sampler(spec, 0),
            )
        trials = loaded.get_trials(deepcopy=False)
        loaded.sampler = _sampler(spec, len(trials))
    with _studies_lock:
        _studies[study_name] = loaded
        _studies.move_to_end(study_name)
        while len(_studies) > KEPT_STUDIES:
            _studies.popitem(last=False)
    return loaded, trials


def ask(the_study, spec: SweepSpec) -> tuple[int, dict]:
    """A new trial: its number and the values it runs with."""
    trial = the_study.ask(distributions(spec))
    return trial.number, values(spec, trial.params)


def record(the_study, number: int, points: list[tuple[int, float]]) -> None:
    """Give a running trial its new intermediate values."""
    frozen = the_study.get_trials(deepcopy=False)[number]
    if frozen.state != TrialState.RUNNING:
        return
    trial = optuna.trial.Trial(the_study, frozen._trial_id)
    for step, value in points:
        trial.report(value, step)


def should_stop(the_study, number: int) -> bool:
    """True when the pruner stops a running trial at its last reported step."""
    frozen = the_study.get_trials(deepcopy=False)[number]
    if frozen.state != TrialState.RUNNING or frozen.last_step is None:
        return False
    return optuna.trial.Trial(the_study, frozen._trial_id).should_prune()


def report(the_study, number: int, points: list[tuple[int, float]]) -> bool:
    """Record a trial's new intermediate values; True when the pruner stops it."""
    record(the_study, number, points)
    return bool(points) and should_stop(the_study, number)


def tell(the_study, number: int, value: float | None, state: str, *, known=None) -> None:
    """Close a trial: complete with its value, pruned, or failed. Telling twice is harmless, and a
    NaN value fails the trial. `known`: the trial as read under the sweep's lock (`open_study`)."""
    frozen = known if known is not None else the_study.get_trials(deepcopy=False)[number]
    if frozen.state != TrialState.RUNNING:
        return
    if state == "complete" and value is not None and not math.isnan(value):
        the_study.tell(number, float(value), skip_if_finished=True)
    else:
        the_study.tell(number, state=TrialState.PRUNED if state == "pruned" else TrialState.FAIL, skip_if_finished=True)
