"""Pipelines run on the real runner (tests/jobs/conftest.py `node`: real sandboxed processes; only
the Celery hop is replaced by a thread per job)."""

from __future__ import annotations

import pytest

from jobs import services as job_services
from tests.jobs.conftest import _clean_job_dirs, make_zip, no_dispatch, node, plain_env  # noqa: F401 - fixtures

PREP = """
import sys, pathlib
n, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
(out / "rows.csv").write_text("\\n".join(str(i) for i in range(n)) + "\\n")
print("prepared", n, "rows")
"""
TRAIN = """
import sys, pathlib, json
data, lr, out = pathlib.Path(sys.argv[1]), float(sys.argv[2]), pathlib.Path(sys.argv[3])
rows = [int(x) for x in (data / "rows.csv").read_text().split()]
out.mkdir(parents=True, exist_ok=True)
(out / "model.json").write_text(json.dumps({"weight": sum(rows) * lr, "version": VERSION}))
print("trained on", len(rows), "rows")
"""
SCORE = """
import sys, pathlib, json
model, data, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
weight = json.loads((model / "model.json").read_text())["weight"]
rows = [int(x) for x in (data / "rows.csv").read_text().split()]
out.mkdir(parents=True, exist_ok=True)
(out / "scores.txt").write_text("\\n".join(str(r * weight) for r in rows))
print("scored with weight", weight)
"""


def code(workspace, owner, files: dict[str, str]) -> str:
    return job_services.do_create_code_snapshot(workspace, actor=owner, zip_file=make_zip(files)).hash


def prep_component(code_id: str) -> dict:
    return {
        "$schema": "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json",
        "name": "prep",
        "type": "command",
        "inputs": {"n": {"type": "integer", "default": 5}},
        "outputs": {"clean": {"type": "uri_folder"}},
        "code": code_id,
        "environment": "azureml:plain:1",
        "command": "python prep.py ${{inputs.n}} ${{outputs.clean}}",
    }


def train_component(code_id: str) -> dict:
    return {
        "name": "train",
        "version": "1",
        "type": "command",
        "inputs": {
            "data": {"type": "uri_folder"},
            "lr": {"type": "number", "default": 0.1},
            "note": {"type": "string", "optional": True},
        },
        "outputs": {"model": {"type": "custom_model"}},
        "code": code_id,
        "environment": "azureml:plain:1",
        "command": "python train.py ${{inputs.data}} ${{inputs.lr}} ${{outputs.model}} $[[--note ${{inputs.note}}]]",
        "is_deterministic": True,
    }


def score_component(code_id: str) -> dict:
    return {
        "name": "score",
        "type": "command",
        "inputs": {"model": {"type": "custom_model"}, "data": {"type": "uri_folder"}},
        "outputs": {"scores": {"type": "uri_folder"}},
        "code": code_id,
        "environment": "azureml:plain:1",
        "command": "python score.py ${{inputs.model}} ${{inputs.data}} ${{outputs.scores}}",
    }


@pytest.fixture
def codes(workspace, owner):
    return {
        "prep": code(workspace, owner, {"prep.py": PREP}),
        "train": code(workspace, owner, {"train.py": TRAIN.replace("VERSION", "1")}),
        "train2": code(workspace, owner, {"train.py": TRAIN.replace("VERSION", "2")}),
        "score": code(workspace, owner, {"score.py": SCORE}),
    }


def three_steps(codes, *, train_code: str | None = None, **settings) -> dict:
    """prep -> train -> score, the components given inline (as the CLI sends component files)."""
    return {
        "type": "pipeline",
        "display_name": "prep-train-score",
        "experiment_name": "pipelines",
        "inputs": {"rows": 6, "learning_rate": 0.5},
        "outputs": {"scored": {"type": "uri_folder"}},
        "settings": {"default_compute": "azureml:local", **settings},
        "jobs": {
            "prep": {"component": prep_component(codes["prep"]), "inputs": {"n": "${{parent.inputs.rows}}"}},
            "train": {
                "component": train_component(train_code or codes["train"]),
                "inputs": {"data": "${{parent.jobs.prep.outputs.clean}}", "lr": "${{parent.inputs.learning_rate}}"},
            },
            "score": {
                "component": score_component(codes["score"]),
                "inputs": {
                    "model": "${{parent.jobs.train.outputs.model}}",
                    "data": "${{parent.jobs.prep.outputs.clean}}",
                },
                "outputs": {"scores": "${{parent.outputs.scored}}"},
            },
        },
    }
