"""The "Create sweep" form: the job form's code, environment, compute and experiment, plus search
space rows, objective, sampling, limits and early termination. It builds the same mapping as the
sweep YAML and is checked by the same parser; the parser's errors land on the field or row they
name."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from jobs.forms import JobForm
from sweeps.spec import KINDS, POLICIES

ROWS = 4
ARGS = ("values", "min_value", "max_value", "upper", "mu", "sigma", "q")


class ParameterForm(forms.Form):
    """One search space row. Only the arguments of the chosen distribution are used."""

    name = forms.CharField(required=False, max_length=100, widget=forms.TextInput(attrs={"placeholder": "lr"}))
    type = forms.ChoiceField(choices=[(k, k) for k in KINDS], initial="uniform", label="Distribution")
    values = forms.CharField(
        required=False,
        label="Values (choice)",
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "16, 32, 64"}),
    )
    min_value = forms.FloatField(required=False, label="Min")
    max_value = forms.FloatField(required=False, label="Max")
    upper = forms.IntegerField(required=False, label="Upper (randint)")
    mu = forms.FloatField(required=False, label="Mu")
    sigma = forms.FloatField(required=False, label="Sigma")
    q = forms.FloatField(required=False, label="q")

    def to_spec(self) -> dict:
        data = self.cleaned_data
        out: dict = {"type": data["type"]}
        for arg in KINDS[data["type"]]:
            if arg == "values":
                out["values"] = [_literal(v) for v in data["values"].split(",") if v.strip()]
            elif data.get(arg) is not None:
                out[arg] = data[arg]
        return out


ParameterFormSet = forms.formset_factory(ParameterForm, extra=ROWS, max_num=50, absolute_max=50)


def _literal(text: str):
    """A choice value as YAML would read it: an int, a float, true/false, else the string."""
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


class SweepForm(JobForm):
    primary_metric = forms.CharField(max_length=250, label="Primary metric", help_text="The name your script logs.")
    goal = forms.ChoiceField(choices=[("maximize", "maximize"), ("minimize", "minimize")])
    sampling = forms.ChoiceField(
        choices=[("random", "random"), ("grid", "grid (choice only)"), ("bayesian", "bayesian")], label="Sampling"
    )
    seed = forms.IntegerField(required=False, min_value=0, label="Seed (random)")
    max_total_trials = forms.IntegerField(initial=20, label="Max trials")
    max_concurrent_trials = forms.IntegerField(required=False, label="At once", help_text="Empty: no limit")
    sweep_timeout_minutes = forms.IntegerField(required=False, min_value=1, label="Sweep timeout (minutes)")
    policy = forms.ChoiceField(
        choices=[("", "none"), *[(p, p.replace("_", " ")) for p in POLICIES]], required=False, label="Early termination"
    )
    evaluation_interval = forms.IntegerField(required=False, initial=1, label="Evaluation interval")
    delay_evaluation = forms.IntegerField(required=False, initial=0, label="Delay evaluation")
    slack_factor = forms.FloatField(required=False, label="Slack factor (bandit)")
    truncation_percentage = forms.IntegerField(required=False, label="Truncation percentage")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["command"].help_text = "Use ${{search_space.<name>}} for a hyperparameter's value."
        self.fields["timeout_minutes"].label = "Trial timeout (minutes)"
        self.fields["command"].widget.attrs["placeholder"] = (
            "python train.py --lr ${{search_space.lr}} --batch ${{search_space.batch}}"
        )

    def to_sweep_spec(self, rows: list[ParameterForm]) -> dict:
        job = self.to_spec()
        data = self.cleaned_data
        trial = {k: job[k] for k in ("command", "environment", "code", "environment_variables") if job.get(k)}
        spec: dict = {
            "type": "sweep",
            "trial": trial,
            "compute": job["compute"],
            "experiment_name": job["experiment_name"],
            "display_name": job["display_name"],
            "description": job["description"],
            "search_space": {r.cleaned_data["name"].strip(): r.to_spec() for r in rows},
            "objective": {"primary_metric": data["primary_metric"], "goal": data["goal"]},
            "sampling_algorithm": {"type": data["sampling"]},
            "limits": {"max_total_trials": data["max_total_trials"]},
        }
        for key in ("inputs", "outputs"):
            if job.get(key):
                spec[key] = job[key]
        if data["sampling"] == "random" and data.get("seed") is not None:
            spec["sampling_algorithm"]["seed"] = data["seed"]
        if data.get("max_concurrent_trials") is not None:
            spec["limits"]["max_concurrent_trials"] = data["max_concurrent_trials"]
        if data.get("sweep_timeout_minutes"):
            spec["limits"]["timeout"] = data["sweep_timeout_minutes"] * 60
        if data.get("timeout_minutes"):
            spec["limits"]["trial_timeout"] = data["timeout_minutes"] * 60
        if data.get("policy"):
            policy: dict = {"type": data["policy"]}
            for key in ("evaluation_interval", "delay_evaluation"):
                if data.get(key) is not None:
                    policy[key] = data[key]
            if data["policy"] == "bandit" and data.get("slack_factor") is not None:
                policy["slack_factor"] = data["slack_factor"]
            if data["policy"] == "truncation_selection" and data.get("truncation_percentage") is not None:
                policy["truncation_percentage"] = data["truncation_percentage"]
            spec["early_termination"] = policy
        return spec


# Parser fields -> the form field that shows the error.
FIELD_FOR = {
    "objective": "primary_metric",
    "objective.goal": "goal",
    "sampling_algorithm": "sampling",
    "sampling_algorithm.seed": "seed",
    "limits": "max_total_trials",
    "limits.max_total_trials": "max_total_trials",
    "limits.max_concurrent_trials": "max_concurrent_trials",
    "limits.timeout": "sweep_timeout_minutes",
    "limits.trial_timeout": "timeout_minutes",
    "early_termination": "policy",
    "early_termination.evaluation_interval": "evaluation_interval",
    "early_termination.delay_evaluation": "delay_evaluation",
    "early_termination.slack_factor": "slack_factor",
    "early_termination.slack_amount": "slack_factor",
    "early_termination.truncation_percentage": "truncation_percentage",
    "trial": "command",
    "code": "code_source",
    "experiment_name": "new_experiment",
    "spec": None,
}


def apply_sweep_errors(form: SweepForm, rows: list[ParameterForm], exc: ValidationError) -> list[str]:
    """Put the parser's errors on the form and its rows; returns those that belong to no field."""
    loose: list[str] = []
    by_name = {r.cleaned_data.get("name", "").strip(): r for r in rows}
    for key, messages in (exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}).items():
        for message in messages:
            if key.startswith("search_space."):
                _, name, *arg = key.split(".")
                row = by_name.get(name)
                if row is not None:
                    row.add_error(arg[0] if arg and arg[0] in row.fields else "name", message)
                    continue
            target = FIELD_FOR.get(key, key.split(".")[0])
            if target and target in form.fields:
                form.add_error(target, message)
            else:
                loose.append(message)
    return loose
