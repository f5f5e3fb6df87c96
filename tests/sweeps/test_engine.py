"""The optimiser side on a real Optuna study (in memory): the bandit rule, truncation, and
seeded samplers that continue their sequence when the study is loaded again."""

from __future__ import annotations

import optuna

from sweeps import engine
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


def test_a_seeded_study_loaded_again_does_not_repeat_its_values(tmp_path, settings):
    settings.STUDIO_SWEEPS_JOURNAL = tmp_path / "journal"
    engine.storage.cache_clear()
    try:
        spec = _spec()
        engine.study(spec, "s1", create=True)
        first = [engine.ask(engine.study(spec, "s1"), spec)[1]["x"] for _ in range(3)]
        engine.study(spec, "s2", create=True)
        second = [engine.ask(engine.study(spec, "s2"), spec)[1]["x"] for _ in range(3)]
    finally:
        engine.storage.cache_clear()
    assert first == second and len(set(first)) == 3
