"""Model fixtures: an MLflow model folder, a finished job whose outputs hold it (stored the way the
runner stores them), and helpers to write files into a datastore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs import artifacts, services
from jobs.models import JobStatus
from jobs.runner.lifecycle import advance
from tests.jobs.conftest import docker_target, no_dispatch, node, plain_env  # noqa: F401 - fixtures used by these tests

SIGNATURE_INPUTS = [
    {"type": "double", "name": "sepal length (cm)", "required": True},
    {"type": "double", "name": "petal width (cm)", "required": True},
]
SIGNATURE_OUTPUTS = [{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]


@pytest.fixture(autouse=True)
def own_storage(settings, tmp_path):
    """Each test's datastores and job outputs in its own folders (workspace ids repeat across tests)."""
    settings.STUDIO_DATASTORES_ROOT = tmp_path / "datastores"
    settings.STUDIO_ARTIFACTS_DIR = tmp_path / "artifacts"


def mlmodel_text(run_id: str = "") -> str:
    """An MLmodel file as mlflow.sklearn.log_model writes it."""
    lines = [
        "artifact_path: model",
        "flavors:",
        "  python_function:",
        "    env:",
        "      conda: conda.yaml",
        "      virtualenv: python_env.yaml",
        "    loader_module: mlflow.sklearn",
        "    model_path: model.pkl",
        "    predict_fn: predict",
        "    python_version: 3.11.9",
        "  sklearn:",
        "    code: null",
        "    pickled_model: model.pkl",
        "    serialization_format: cloudpickle",
        "    sklearn_version: 1.5.1",
        "mlflow_version: 3.1.0",
        "model_size_bytes: 1234",
        "model_uuid: 0123456789abcdef",
        "saved_input_example_info:",
        "  artifact_path: input_example.json",
        "  serving_input_path: serving_input_example.json",
        "  type: dataframe",
        "  pandas_orient: split",
        "signature:",
        f"  inputs: '{json.dumps(SIGNATURE_INPUTS)}'",
        f"  outputs: '{json.dumps(SIGNATURE_OUTPUTS)}'",
        "  params: null",
        "utc_time_created: '2026-12-01 10:00:00.000000'",
    ]
    if run_id:
        lines.append(f"run_id: {run_id}")
    return "\n".join(lines) + "\n"


def write_mlflow_model(folder: Path, run_id: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MLmodel").write_text(mlmodel_text(run_id))
    (folder / "model.pkl").write_bytes(b"\x80\x04pickled-model-bytes")
    (folder / "requirements.txt").write_text("mlflow==3.1.0\nscikit-learn==1.5.1\n")
    (folder / "conda.yaml").write_text("dependencies:\n- python=3.11.9\n- pip:\n  - mlflow==3.1.0\n")
    (folder / "python_env.yaml").write_text("python: 3.11.9\n")
    (folder / "input_example.json").write_text(
        json.dumps({"columns": ["sepal length (cm)", "petal width (cm)"], "data": [[5.1, 0.2], [6.2, 1.8]]})
    )
    return folder


def finish_job(job, outputs: Path | None = None):
    """Walk a submitted job to Completed and store `outputs` as its outputs/ (as the runner does)."""
    advance(job.pk, JobStatus.QUEUED, JobStatus.PREPARING, node="n")
    advance(job.pk, JobStatus.PREPARING, JobStatus.RUNNING)
    advance(job.pk, JobStatus.RUNNING, JobStatus.FINALIZING)
    if outputs is not None:
        artifacts.store_outputs(job, outputs)
    advance(job.pk, JobStatus.FINALIZING, JobStatus.COMPLETED)
    job.refresh_from_db()
    return job


@pytest.fixture
def trained_job(workspace, owner, no_dispatch, plain_env, tmp_path):  # noqa: F811
    """A completed job whose outputs/model/ is an MLflow model (run_id = the job's name)."""
    job = services.do_submit_job(
        workspace, actor=owner, data={"command": "python train.py", "environment": "plain:1", "experiment_name": "iris"}
    )
    outputs = tmp_path / "job-outputs"
    write_mlflow_model(outputs / "model", run_id=job.name)
    (outputs / "notes.txt").write_text("trained\n")
    return finish_job(job, outputs)
