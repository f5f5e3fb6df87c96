"""The Azure ML sweep job YAML (`type: sweep`), validated at submission with file:line errors.

`SweepJobSpec` is its schema (the keys the API, its OpenAPI document and the CLI know);
`parse_sweep_spec` checks a mapping's keys against it, then the rules of the values, and returns a
`SweepSpec`; its `trial_data(params)` is the command-job mapping of one trial, with
`${{search_space.x}}` replaced by the trial's shell-quoted values, submitted through the ordinary
job path.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from jobs.spec import parse_job_spec
from studio.schema import SpecSerializer, Tags, Text, Value, WholeNumber, refuse_unknown_keys
from studio.yamlspec import check_keys

# Each kind's arguments, as Azure ML's search space functions take them.
KINDS: dict[str, tuple[str, ...]] = {
    "choice": ("values",),
    "randint": ("upper",),
    "uniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"),
    "loguniform": ("min_value", "max_value"),
    "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "lognormal": ("mu", "sigma"),
    "qlognormal": ("mu", "sigma", "q"),
}
ALGORITHMS = ("random", "grid", "bayesian")
POLICIES = {
    "bandit": {"slack_factor", "slack_amount"},
    "median_stopping": set(),
    "truncation_selection": {"truncation_percentage"},
}
SEARCH_PLACEHOLDER = re.compile(r"\$\{\{\s*search_space\.([A-Za-z0-9_]+)\s*\}\}")
MAX_TRIALS = 1000
TRIAL_RETRIES = 1
MAX_TIMEOUT = 30 * 24 * 3600


class SweepTrialSpec(SpecSerializer):
    """The trial of a sweep: one command job, `${{search_space.<name>}}` in its command."""

    noun = "trial"

    type = Text(help_text="command (the only kind of trial)")
    command = Text(help_text="The command; ${{search_space.<name>}} is each trial's value")
    code = Text(help_text="A local folder (the CLI uploads it) or a code reference")
    environment = Value(help_text="name:version, name@latest, or an inline environment")
    environment_variables = Value(help_text="Variable names to values")
    resources = Value(help_text="As a command job's resources")


class SweepLimitsSpec(SpecSerializer):
    """How many trials, how many at once, and how long."""

    noun = "limits"

    max_total_trials = WholeNumber(required=False, min_value=1, max_value=MAX_TRIALS, help_text="20 unless given")
    max_concurrent_trials = WholeNumber(required=False, min_value=1, max_value=100)
    timeout = WholeNumber(required=False, min_value=1, max_value=MAX_TIMEOUT, help_text="The sweep's seconds")
    trial_timeout = WholeNumber(required=False, min_value=1, max_value=MAX_TIMEOUT, help_text="Each trial's seconds")


class SweepJobSpec(SpecSerializer):
    """A sweep job (Azure ML's sweepJob YAML), as JSON or YAML: a trial run over a search space."""

    ignored_keys = frozenset({"identity", "properties", "status", "queue_settings", "services"})
    noun = "sweep job"

    type = Text(help_text="sweep")
    name = Text(max_length=255)
    display_name = Text(max_length=255)
    description = Text()
    tags = Tags()
    experiment_name = Text(max_length=255)
    trial = SweepTrialSpec(required=False)
    inputs = Value(help_text="As a command job's inputs; the trial reads them as ${{inputs.<name>}}")
    outputs = Value(help_text="As a command job's outputs")
    compute = Text(help_text="The compute target the trials run on")
    search_space = Value(help_text=f"Parameter name -> {{type: {' | '.join(KINDS)}, ...}}")
    sampling_algorithm = Value(help_text=f"{', '.join(ALGORITHMS)}, or a mapping with type (and seed, rule)")
    objective = Value(help_text="primary_metric and goal (maximize or minimize)")
    limits = SweepLimitsSpec(required=False)
    early_termination = Value(help_text=f"type: {' | '.join(POLICIES)}, with its settings")


@dataclass
class SweepSpec:
    search_space: dict[str, dict]
    algorithm: str
    primary_metric: str
    goal: str
    max_total_trials: int
    max_concurrent_trials: int
    trial: dict
    top: dict
    seed: int | None = None
    rule: str = "random"
    timeout: int | None = None
    trial_timeout: int | None = None
    early_termination: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict) -> SweepSpec:
        return cls(**data)

    def trial_data(self, values: dict[str, Any], name: str) -> dict:
        """The command job of one trial: the sweep's trial with the sampled values substituted."""
        command = SEARCH_PLACEHOLDER.sub(lambda m: shlex.quote(_text(values[m[1]])), self.trial["command"])
        data = {**self.top, **{k: v for k, v in self.trial.items() if k != "type"}, "command": command, "name": name}
        # A trial cut short by its node dying runs again in the same job (the same trial number and
        # values), so a lost worker neither loses a trial nor makes the sweep start another one.
        data["limits"] = {"max_retries": TRIAL_RETRIES}
        if self.trial_timeout:
            data["limits"]["timeout"] = self.trial_timeout
        return data


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def _where(data: Any, key: str, source: str) -> str:
    line = getattr(data, "lines", {}).get(key)
    return f"{source}, line {line}" if line else source


def _number(value: Any, field_name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError({field_name: [f"{where}: {field_name} must be a number, not {value!r}."]})
    return float(value)


def _int(value: Any, field_name: str, where: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError({field_name: [f"{where}: {field_name} must be a whole number from {low} to {high}."]})
    return value


def _parse_parameter(name: str, raw: Any, where: str) -> dict:
    field_name = f"search_space.{name}"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", str(name)):
        raise ValidationError({field_name: [f"{where}: {name!r} is not a valid parameter name."]})
    if not isinstance(raw, dict) or "type" not in raw:
        raise ValidationError(
            {field_name: [f"{where}: give a mapping with a type, e.g. {{type: choice, values: [1, 2]}}."]}
        )
    kind = raw["type"]
    if kind not in KINDS:
        raise ValidationError(
            {field_name: [f"{where}: unknown search space type {kind!r}; use one of {', '.join(KINDS)}."]}
        )
    args = KINDS[kind]
    extra = sorted(set(raw) - {"type", *args})
    missing = [a for a in args if a not in raw]
    if extra or missing:
        problem = f"unknown {', '.join(extra)}" if extra else f"missing {', '.join(missing)}"
        raise ValidationError({field_name: [f"{where}: {kind} takes {', '.join(args)} ({problem})."]})
    out: dict[str, Any] = {"type": kind}
    if kind == "choice":
        values = raw["values"]
        if not isinstance(values, list) or not values or len(values) > 1000:
            raise ValidationError({field_name: [f"{where}: choice values must be a list of 1 to 1000 items."]})
        if any(isinstance(v, (dict, list)) or v is None for v in values) or len(set(map(repr, values))) != len(values):
            raise ValidationError(
                {field_name: [f"{where}: choice values must be distinct numbers, strings or booleans."]}
            )
        out["values"] = values
        return out
    if kind == "randint":
        out["upper"] = _int(raw["upper"], f"{field_name}.upper", where, low=1, high=2**31)
        return out
    for arg in args:
        out[arg] = _number(raw[arg], f"{field_name}.{arg}", where)
    if "min_value" in out and out["min_value"] >= out["max_value"]:
        raise ValidationError({field_name: [f"{where}: min_value must be below max_value."]})
    if "sigma" in out and out["sigma"] <= 0:
        raise ValidationError({field_name: [f"{where}: sigma must be above 0."]})
    if "q" in out and out["q"] <= 0:
        raise ValidationError({field_name: [f"{where}: q must be above 0."]})
    if kind in ("loguniform", "qloguniform") and out["max_value"] > 700:
        raise ValidationError(
            {field_name: [f"{where}: min_value and max_value are natural logs; keep them below 700."]}
        )
    return out


def _parse_algorithm(raw: Any, where: str) -> tuple[str, int | None, str]:
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, dict) or raw.get("type") not in ALGORITHMS:
        kind = raw.get("type") if isinstance(raw, dict) else raw
        raise ValidationError(
            {"sampling_algorithm": [f"{where}: unknown sampling algorithm {kind!r}; use random, grid or bayesian."]}
        )
    allowed = {"type", "seed", "rule", "logbase"} if raw["type"] == "random" else {"type"}
    check_keys(raw, allowed, source=where, field="sampling_algorithm")
    seed = raw.get("seed")
    if seed is not None:
        seed = _int(seed, "sampling_algorithm.seed", where, low=0, high=2**31 - 1)
    rule = raw.get("rule", "random")
    if rule not in ("random", "sobol"):
        raise ValidationError({"sampling_algorithm.rule": [f"{where}: rule is random or sobol, not {rule!r}."]})
    return raw["type"], seed, rule


def _parse_policy(raw: Any, where: str) -> dict:
    if raw in (None, {}):
        return {}
    if not isinstance(raw, dict) or raw.get("type") not in POLICIES:
        kind = raw.get("type") if isinstance(raw, dict) else raw
        raise ValidationError(
            {
                "early_termination": [
                    f"{where}: unknown early termination policy {kind!r}; use bandit, median_stopping "
                    "or truncation_selection."
                ]
            }
        )
    kind = raw["type"]
    check_keys(
        raw,
        {"type", "evaluation_interval", "delay_evaluation", *POLICIES[kind]},
        source=where,
        field="early_termination",
    )
    out = {
        "type": kind,
        "evaluation_interval": _int(
            raw.get("evaluation_interval", 1), "early_termination.evaluation_interval", where, low=1, high=10**6
        ),
        "delay_evaluation": _int(
            raw.get("delay_evaluation", 0), "early_termination.delay_evaluation", where, low=0, high=10**6
        ),
    }
    if kind == "bandit":
        if ("slack_factor" in raw) == ("slack_amount" in raw):
            raise ValidationError({"early_termination": [f"{where}: bandit takes slack_factor or slack_amount."]})
        key = "slack_factor" if "slack_factor" in raw else "slack_amount"
        out[key] = _number(raw[key], f"early_termination.{key}", where)
        if out[key] <= 0:
            raise ValidationError({f"early_termination.{key}": [f"{where}: {key} must be above 0."]})
    if kind == "truncation_selection":
        out["truncation_percentage"] = _int(
            raw.get("truncation_percentage"), "early_termination.truncation_percentage", where, low=1, high=99
        )
    return out


def parse_sweep_spec(data: dict, *, source: str = "sweep job") -> SweepSpec:
    """Validate a sweep mapping (YAML-loaded or JSON); every error names its field and line."""
    refuse_unknown_keys(SweepJobSpec, data, source=source)
    for key in ("trial", "search_space", "objective", "sampling_algorithm"):
        if key not in data:
            raise ValidationError({key: [f"{source}: a sweep job needs {key}."]})
    trial = data["trial"]
    where = _where(data, "trial", source)
    if isinstance(trial, str):
        raise ValidationError({"trial": [f"{where}: component files are not supported yet; write the trial inline."]})
    if not isinstance(trial, dict):
        raise ValidationError({"trial": [f"{where}: trial is a mapping with command, environment and code."]})
    refuse_unknown_keys(SweepTrialSpec, trial, source=where, field="trial")
    if trial.get("type", "command") != "command":
        raise ValidationError({"trial": [f"{where}: a trial is a command."]})
    space = data["search_space"]
    where = _where(data, "search_space", source)
    if not isinstance(space, dict) or not space:
        raise ValidationError({"search_space": [f"{where}: give at least one parameter."]})
    search_space = {
        name: _parse_parameter(name, raw, _where(space, name, source) if name in getattr(space, "lines", {}) else where)
        for name, raw in space.items()
    }
    used = set(SEARCH_PLACEHOLDER.findall(str(trial.get("command", ""))))
    if unknown := used - set(search_space):
        raise ValidationError(
            {
                "trial": [
                    f"{_where(data, 'trial', source)}: the command uses search_space.{sorted(unknown)[0]}, "
                    "which the search space does not define."
                ]
            }
        )
    algorithm, seed, rule = _parse_algorithm(data["sampling_algorithm"], _where(data, "sampling_algorithm", source))
    if algorithm == "grid" and any(p["type"] != "choice" for p in search_space.values()):
        raise ValidationError(
            {"search_space": [f"{_where(data, 'search_space', source)}: grid sampling takes only choice parameters."]}
        )
    objective = data["objective"]
    where = _where(data, "objective", source)
    if not isinstance(objective, dict) or not isinstance(objective.get("primary_metric"), str):
        raise ValidationError({"objective": [f"{where}: give primary_metric and goal (maximize or minimize)."]})
    goal = str(objective.get("goal", "")).lower()
    if goal not in ("maximize", "minimize"):
        raise ValidationError(
            {"objective.goal": [f"{where}: goal is maximize or minimize, not {objective.get('goal')!r}."]}
        )
    limits = data.get("limits") or {}
    where = _where(data, "limits", source)
    if not isinstance(limits, dict):
        raise ValidationError({"limits": [f"{where}: limits is a mapping."]})
    refuse_unknown_keys(SweepLimitsSpec, limits, source=where, field="limits")
    max_total = _int(limits.get("max_total_trials", 20), "limits.max_total_trials", where, low=1, high=MAX_TRIALS)
    if algorithm == "grid":
        max_total = min(max_total, math.prod(len(p["values"]) for p in search_space.values()))
    concurrent = _int(
        limits.get("max_concurrent_trials", min(max_total, 100)), "limits.max_concurrent_trials", where, low=1, high=100
    )
    timeout = limits.get("timeout")
    trial_timeout = limits.get("trial_timeout")
    if timeout is not None:
        timeout = _int(timeout, "limits.timeout", where, low=1, high=MAX_TIMEOUT)
    if trial_timeout is not None:
        trial_timeout = _int(trial_timeout, "limits.trial_timeout", where, low=1, high=MAX_TIMEOUT)
    policy = _parse_policy(data.get("early_termination"), _where(data, "early_termination", source))
    top = {k: data[k] for k in ("compute", "inputs", "outputs", "experiment_name", "tags") if k in data}
    spec = SweepSpec(
        search_space=search_space,
        algorithm=algorithm,
        primary_metric=objective["primary_metric"],
        goal=goal,
        max_total_trials=max_total,
        max_concurrent_trials=min(concurrent, max_total),
        trial=dict(trial),
        top=top,
        seed=seed,
        rule=rule,
        timeout=timeout,
        trial_timeout=trial_timeout,
        early_termination=policy,
    )
    # The trial as a command job, with a sample value for each parameter: the same checks as any job.
    sample = {name: p["values"][0] if p["type"] == "choice" else 1 for name, p in search_space.items()}
    parse_job_spec(spec.trial_data(sample, "sample"), source=f"{source} trial")
    return spec
