"""A `type: sweep` step in a pipeline: its trial is a component, its search space sets some of the
component's inputs, and the next step reads the best trial's output. Real trials on the real
runner, logging their metric with the real MLflow client."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jobs.models import Job, JobStatus, JobType
from pipelines.models import StepState
from pipelines.services.pipelines import parse
from studio.yamlspec import load_yaml
from sweeps.models import TrialState
from tests.conftest import token_client
from tests.jobs.conftest import wait_status
from tests.pipelines.conftest import code

TRAIN = """
import sys, pathlib, json
import mlflow
lr, out = float(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
(out / "model.json").write_text(json.dumps({"lr": lr}))
mlflow.log_metric("accuracy", 1 - abs(lr - 0.5))
"""
FINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


def _tune_component(code_id: str, env: str) -> dict:
    return {
        "name": "tune",
        "version": "1",
        "type": "command",
        "inputs": {"lr": {"type": "number", "default": 0.01}},
        "outputs": {"model": {"type": "custom_model"}},
        "code": code_id,
        "environment": f"azureml:{env}",
        "command": "python train.py ${{inputs.lr}} ${{outputs.model}}",
    }


def _body(code_id: str, env: str) -> dict:
    return {
        "type": "pipeline",
        "outputs": {"chosen": {"type": "uri_folder"}},
        "settings": {"default_compute": "azureml:local"},
        "jobs": {
            "sweep_lr": {
                "type": "sweep",
                "trial": _tune_component(code_id, env),
                "search_space": {"lr": {"type": "choice", "values": [0.1, 0.5]}},
                "objective": {"primary_metric": "accuracy", "goal": "maximize"},
                "sampling_algorithm": "grid",
                "limits": {"max_total_trials": 2, "max_concurrent_trials": 2},
            },
            "use": {
                "type": "command",
                "environment": f"azureml:{env}",
                "command": "cp ${{inputs.model}}/model.json ${{outputs.out}}/",
                "inputs": {"model": "${{parent.jobs.sweep_lr.outputs.model}}"},
                "outputs": {"out": "${{parent.outputs.chosen}}"},
            },
        },
    }


def test_a_sweep_step_runs_its_trials_and_feeds_the_best_output_to_the_next_step(node, mlflow_env, workspace, owner):
    api = token_client(owner)
    code_id = code(workspace, owner, {"train.py": TRAIN})
    answer = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/", _body(code_id, mlflow_env), format="json")
    assert answer.status_code == 201, answer.content
    pipeline = wait_status(Job.objects.get(workspace=workspace, name=answer.json()["name"]), FINAL, timeout=240)
    steps = {s.name: s for s in pipeline.pipeline.steps.select_related("job")}
    assert pipeline.status == JobStatus.COMPLETED, (pipeline.failure_reason, {n: s.reason for n, s in steps.items()})
    sweep = steps["sweep_lr"].job
    assert sweep.type == JobType.SWEEP and sweep.parent_id == pipeline.pk
    assert steps["sweep_lr"].state == StepState.COMPLETED
    trials = list(sweep.sweep.trials.select_related("job"))
    assert len(trials) == 2 and all(t.state == TrialState.COMPLETED for t in trials)
    assert all(t.job.parent_id == sweep.pk for t in trials)
    assert sorted(t.params["lr"] for t in trials) == [0.1, 0.5]
    best = sweep.sweep.best_trial
    assert best.params == {"lr": 0.5}
    assert best.job.command.startswith("python train.py 0.5 "), "the search space set the trial's input"
    best_model = best.job.outputs["model"]["uri"]
    assert sweep.outputs["model"]["uri"] == best_model, "the sweep's outputs are its best trial's"
    assert steps["sweep_lr"].outputs["model"]["uri"] == best_model
    use = steps["use"].job
    assert use.started_at >= sweep.ended_at, "the next step waited for the whole sweep"
    assert use.inputs["model"]["uri"] == best_model
    chosen = pipeline.outputs["chosen"]["uri"]
    listing = api.get(
        f"/api/v1/workspaces/{workspace.name}/datastores/workspaceblobstore/files/",
        {"path": chosen.split("/paths/", 1)[1] + "model.json"},
    )
    assert listing.status_code == 200 and b'"lr": 0.5' in b"".join(listing.streaming_content)


SWEEP_YAML = """\
type: pipeline
jobs:
  tune:
    type: sweep
    trial: azureml:tune:1
    search_space:
      {space}
    objective: {{primary_metric: accuracy, goal: maximize}}
    sampling_algorithm: {algorithm}
"""


@pytest.mark.parametrize(
    ("space", "algorithm", "field", "text"),
    [
        (
            "rate: {type: choice, values: [1, 2]}",
            "grid",
            "jobs.tune.search_space.rate",
            "'rate' (line 7) is not an input of tune:1",
        ),
        (
            "lr: {type: uniform, min_value: 0, max_value: 1}",
            "grid",
            "jobs.tune.search_space",
            "step tune, line 6: grid sampling takes only choice",
        ),
        (
            "lr: {type: choice, values: [1, 2]}",
            "annealing",
            "jobs.tune.sampling_algorithm",
            "unknown sampling algorithm 'annealing'",
        ),
    ],
)
def test_a_bad_sweep_step_is_refused_with_its_line(workspace, owner, plain_env, space, algorithm, field, text):
    from pipelines.services.components import do_create_component_version

    do_create_component_version(
        workspace,
        actor=owner,
        data={
            "name": "tune",
            "version": "1",
            "type": "command",
            "inputs": {"lr": {"type": "number"}, "data": {"type": "uri_folder", "optional": True}},
            "environment": "azureml:plain:1",
            "command": "echo ${{inputs.lr}} $[[${{inputs.data}}]]",
        },
    )
    data = load_yaml(SWEEP_YAML.format(space=space, algorithm=algorithm))
    with pytest.raises(ValidationError) as caught:
        parse(workspace, data, actor=owner, source="yaml")
    assert field in caught.value.message_dict, caught.value.message_dict
    assert text in " ".join(caught.value.message_dict[field])
