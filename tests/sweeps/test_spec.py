"""A sweep job is validated at submission: a wrong search space type, bound or goal is refused
with the file and line, through the same jobs API the CLI uses."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jobs.models import Job
from sweeps import engine
from sweeps.spec import parse_sweep_spec
from tests.conftest import token_client

SWEEP = """\
type: sweep
trial:
  command: python train.py --lr ${{search_space.lr}}
  environment: azureml:plain:1
search_space:
  lr:
    type: uniform
    min_value: 0.5
    max_value: 0.1
objective:
  primary_metric: acc
  goal: maximize
sampling_algorithm: random
"""


def _post_yaml(api, workspace, text):
    return api.post(f"/api/v1/workspaces/{workspace.name}/jobs/", {"spec": text}, format="multipart")


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("objective:", "objectiv:", "sweep YAML: unknown key 'objectiv' (line 10). Did you mean 'objective'?"),
        ("  command:", "  comand:", "unknown key 'comand' (line 3). Did you mean 'command'?"),
        ("sampling_algorithm: random", "sampling_algorithm: random\nlimits: {max_trials: 2}", "'max_total_trials'"),
    ],
)
def test_a_typo_is_refused_with_its_line_and_the_key_meant(workspace, owner, old, new, words):
    good_bounds = SWEEP.replace("min_value: 0.5", "min_value: 0.01")
    answer = _post_yaml(token_client(owner), workspace, good_bounds.replace(old, new, 1))
    assert answer.status_code == 400, answer.content
    assert words in str(answer.json())
    assert not Job.objects.exists()


def test_a_bad_bound_is_refused_with_its_line(workspace, owner):
    answer = _post_yaml(token_client(owner), workspace, SWEEP)
    assert answer.status_code == 400, answer.content
    assert "line 6" in str(answer.json()) and "min_value must be below max_value" in str(answer.json())
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("type: uniform", "type: gaussian", "unknown search space type 'gaussian'"),
        ("goal: maximize", "goal: biggest", "goal is maximize or minimize"),
        ("sampling_algorithm: random", "sampling_algorithm: grid", "grid sampling takes only choice"),
        ("${{search_space.lr}}", "${{search_space.rate}}", "search_space.rate"),
    ],
)
def test_wrong_types_goals_and_names_are_refused(workspace, owner, old, new, message):
    text = SWEEP.replace("min_value: 0.5", "min_value: 0.01").replace(old, new)
    answer = _post_yaml(token_client(owner), workspace, text)
    assert answer.status_code == 400 and message in str(answer.json()), answer.content


def test_every_azure_search_space_type_maps_to_values_in_range():
    space = {
        "c": {"type": "choice", "values": ["a", "b"]},
        "r": {"type": "randint", "upper": 5},
        "u": {"type": "uniform", "min_value": 1, "max_value": 2},
        "qu": {"type": "quniform", "min_value": 0, "max_value": 10, "q": 2},
        "lu": {"type": "loguniform", "min_value": -3, "max_value": 0},
        "qlu": {"type": "qloguniform", "min_value": 0, "max_value": 3, "q": 1},
        "n": {"type": "normal", "mu": 5, "sigma": 1},
        "qn": {"type": "qnormal", "mu": 5, "sigma": 1, "q": 0.5},
        "ln": {"type": "lognormal", "mu": 0, "sigma": 0.5},
        "qln": {"type": "qlognormal", "mu": 0, "sigma": 0.5, "q": 1},
    }
    spec = parse_sweep_spec(
        {
            "type": "sweep",
            "trial": {"command": "echo " + " ".join(f"${{{{search_space.{k}}}}}" for k in space), "environment": "e:1"},
            "search_space": space,
            "objective": {"primary_metric": "m", "goal": "minimize"},
            "sampling_algorithm": {"type": "random", "seed": 3},
        }
    )
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        values = engine.values(spec, study.ask(engine.distributions(spec)).params)
        assert values["c"] in ("a", "b") and 0 <= values["r"] <= 4 and 1 <= values["u"] <= 2
        assert values["qu"] % 2 == 0 and 0.04 < values["lu"] <= 1 and values["qlu"] == round(values["qlu"])
        assert values["ln"] > 0 and (values["qn"] * 2) == round(values["qn"] * 2)
    with pytest.raises(ValidationError, match="sigma must be above 0"):
        parse_sweep_spec(
            {
                **spec.top,
                "type": "sweep",
                "trial": spec.trial,
                "search_space": {"n": {"type": "normal", "mu": 0, "sigma": 0}},
                "objective": {"primary_metric": "m", "goal": "minimize"},
                "sampling_algorithm": "random",
            }
        )
