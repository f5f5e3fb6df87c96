"""`studio job …`: a DP-100-style training job submitted from YAML, followed live, downloaded;
a failing job's exit code; cancel. Jobs run for real on an in-process node (tests/jobs)."""

from __future__ import annotations

import json
import sys

import pytest

from jobs.models import Job, JobStatus, Metric
from tests.cli.conftest import write

TRAIN = """\
import argparse
import csv
import json
import os

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--training_data", type=str, required=True)
parser.add_argument("--reg_rate", type=float, default=0.01)
parser.add_argument("--model_dir", type=str, default="outputs")
args = parser.parse_args()

with open(args.training_data) as f:
    rows = list(csv.DictReader(f))
print(f"Training on {len(rows)} rows with regularization rate {args.reg_rate}")
threshold = sum(float(r["bmi"]) for r in rows) / len(rows)
correct = sum((float(r["bmi"]) > threshold) == (r["diabetic"] == "1") for r in rows)
accuracy = correct / len(rows)
mlflow.log_param("reg_rate", args.reg_rate)
for epoch in range(3):
    mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
mlflow.log_metric("accuracy", accuracy)
print("Accuracy:", accuracy)
with open(os.path.join(args.model_dir, "model.json"), "w") as f:
    json.dump({"threshold": threshold, "reg_rate": args.reg_rate}, f)
os.makedirs("outputs", exist_ok=True)
with open("outputs/summary.txt", "w") as f:
    f.write(f"accuracy={accuracy}\\n")
"""
DIABETES = "bmi,diabetic\n31.2,1\n22.4,0\n35.9,1\n24.1,0\n28.0,1\n"
JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: src
command: >-
  python train.py
  --training_data ${{inputs.training_data}}
  --reg_rate ${{inputs.reg_rate}}
  --model_dir ${{outputs.model}}
inputs:
  training_data: data/diabetes.csv
  reg_rate: 0.01
outputs:
  model:
    type: uri_folder
environment: azureml:host-python@latest
compute: azureml:local
experiment_name: diabetes-training
display_name: diabetes-train
description: Train a diabetes classifier
"""


@pytest.fixture
def host_python(cli):
    """An environment that runs jobs with this test's own interpreter (which has mlflow), so no
    packages are downloaded: `user_managed_dependencies` as Azure ML has it."""
    write(
        cli.cwd,
        "env.yml",
        "name: host-python\nimage: python:3.11-slim\n"
        f"user_managed_dependencies: true\ninterpreter_path: {sys.executable}\n",
    )
    result = cli("environment", "create", "--file", "env.yml")
    assert result.code == 0, result


@pytest.fixture
def project(cli, host_python):
    write(cli.cwd, "project/src/train.py", TRAIN)
    write(cli.cwd, "project/src/.amlignore", "scratch/\n")
    write(cli.cwd, "project/src/scratch/notes.txt", "not uploaded\n")
    write(cli.cwd, "project/src/data/diabetes.csv", DIABETES)
    write(cli.cwd, "project/job.yml", JOB)
    return cli.cwd / "project"


def test_job_create_stream_runs_a_training_job_to_completion(cli, node, project, settings):
    settings.STUDIO_PUBLIC_URL = cli.url  # where the job's MLflow client reports metrics

    result = cli("job", "create", "--file", "project/job.yml", "--set", "inputs.reg_rate=0.05", "--stream")

    assert result.code == 0, result
    job = Job.objects.get(workspace__name="ws-cli")
    assert job.status == JobStatus.COMPLETED
    assert "Training on 5 rows with regularization rate 0.05" in result.out
    assert "Accuracy: 0.8" in result.out
    assert "Uploading code" in result.err and "Code: 3 files" in result.err  # not scratch/ (.amlignore)
    assert f"{job.name}: Running" in result.err
    assert f"Job {job.name} ended: Completed" in result.err
    assert f"See it at {cli.url}/w/ws-cli/jobs/{job.name}/" in result.err
    assert job.experiment.name == "diabetes-training" and job.display_name == "diabetes-train"
    assert Metric.objects.get(job=job, key="accuracy").value == 0.8
    assert Metric.objects.filter(job=job, key="loss").count() == 3

    shown = json.loads(cli("job", "show", job.name, "-o", "json").out)
    listed = cli("job", "list")
    download = cli("job", "download", "--name", job.name, "--download-path", "got")
    named = cli("job", "download", job.name, "--output-name", "model", "-p", "named")
    everything = cli("job", "download", job.name, "--all", "-p", "all")

    assert shown["inputs"]["reg_rate"] == 0.05 and shown["status"] == "Completed"
    assert job.name in listed.out and "Completed" in listed.out and "diabetes-training" in listed.out
    assert download.code == 0, download
    got = cli.cwd / "got" / job.name
    assert json.loads((got / "model" / "model.json").read_text())["reg_rate"] == 0.05
    assert (got / "summary.txt").read_text() == "accuracy=0.8\n"
    assert named.code == 0, named
    assert sorted(p.name for p in (cli.cwd / "named" / job.name).rglob("*") if p.is_file()) == ["model.json"]
    assert everything.code == 0, everything
    assert "Accuracy: 0.8" in (cli.cwd / "all" / job.name / "logs" / "user_logs" / "std_log.txt").read_text()
    assert cli("job", "download", job.name, "--output-name", "nothing").err.strip() == (
        f"error: Job {job.name} has no files in an output named 'nothing'."
    )


def test_a_local_input_path_is_uploaded_to_the_default_datastore(cli, no_dispatch, host_python):
    from datastores.models import Datastore
    from datastores.storage import store_for

    write(cli.cwd, "p/data/diabetes.csv", DIABETES)
    write(
        cli.cwd,
        "p/job.yml",
        "command: python train.py --training_data ${{inputs.diabetes_data}}\n"
        "environment: azureml:host-python@latest\n"
        "inputs:\n  diabetes_data:\n    type: uri_file\n    path: ./data/diabetes.csv\n",
    )

    first = cli("job", "create", "-f", "p/job.yml")
    second = cli("job", "create", "-f", "p/job.yml")

    assert first.code == 0, first
    assert "Uploading 1 file from" in first.err
    assert "Uploading" not in second.err  # the same content is already there
    paths = {job.inputs["diabetes_data"]["path"] for job in Job.objects.all()}
    assert len(paths) == 1
    uri = paths.pop()
    assert uri.startswith("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    assert uri.endswith("/diabetes.csv")
    store = store_for(Datastore.objects.get(workspace__name="ws-cli", name="workspaceblobstore"))
    with store.open_read(uri.split("/paths/", 1)[1]) as fh:
        assert fh.read().decode() == DIABETES


def test_a_failing_job_makes_create_stream_exit_non_zero(cli, node, host_python):
    write(cli.cwd, "src/fail.py", "import sys\nprint('loading data')\nsys.exit(3)\n")
    write(
        cli.cwd,
        "fail.yml",
        "command: python fail.py\ncode: ./src\nenvironment: azureml:host-python:1\ncompute: local\n",
    )

    result = cli("job", "create", "-f", "fail.yml", "--stream")

    assert result.code == 1, result
    assert "loading data" in result.out
    name = Job.objects.get().name
    assert f"Job {name} ended: Failed (" in result.err and "code 3" in result.err
    assert cli("job", "stream", name).code == 1


def test_job_create_without_stream_prints_the_job_and_cancel_stops_it(cli, no_dispatch, host_python):
    write(cli.cwd, "job.yml", "command: echo hi\nenvironment: host-python@latest\n")

    created = cli("job", "create", "-f", "job.yml", "--name", "my_first_job")
    canceled = cli("job", "cancel", "my_first_job")
    streamed = cli("job", "stream", "--name", "my_first_job")
    canceled_jobs = json.loads(cli("job", "list", "--status", "Canceled", "-o", "json").out)
    running_jobs = json.loads(cli("job", "list", "--status", "Running", "-o", "json").out)

    assert created.code == 0, created
    assert "my_first_job" in created.out and "Queued" in created.out
    assert f"{cli.url}/w/ws-cli/jobs/my_first_job/" in created.out
    assert canceled.code == 0, canceled
    assert "Canceled" in canceled.err
    assert streamed.code == 2
    assert "ended: Canceled" in streamed.err
    assert [j["name"] for j in canceled_jobs] == ["my_first_job"] and running_jobs == []


def test_job_errors_are_the_servers_one_line_message(cli, no_dispatch, host_python):
    write(cli.cwd, "job.yml", "command: python x.py --n ${{inputs.n}}\nenvironment: host-python@latest\n")

    missing_input = cli("job", "create", "-f", "job.yml")
    unknown_job = cli("job", "show", "nope")
    no_outputs = cli("job", "download", "nope")

    assert missing_input.code == 1
    assert missing_input.err.strip() == ("error: command: The command uses ${{inputs.n}} but the job has no input 'n'.")
    assert unknown_job.code == 1 and len(unknown_job.err.strip().splitlines()) == 1
    assert no_outputs.code == 1


def test_an_inline_environment_reads_its_conda_file_next_to_the_yaml(cli, no_dispatch):
    from environments.models import EnvironmentVersion

    conda = "name: inline\ndependencies:\n  - python=3.11\n  - pip:\n      - six==1.16.0\n"
    write(cli.cwd, "jobs/env/conda.yml", conda)
    write(
        cli.cwd,
        "jobs/job.yml",
        "command: python -c 'import six'\n"
        "environment:\n  image: python:3.11-slim\n  conda_file: ./env/conda.yml\n"
        "compute: azureml:local\n",
    )

    result = cli("job", "create", "-f", "jobs/job.yml", "-o", "json")

    assert result.code == 0, result
    job = Job.objects.get(name=json.loads(result.out)["name"])
    assert job.environment_ref == "inline"
    pinned = EnvironmentVersion.objects.get(
        environment__name=job.environment_name, version=job.environment_version_label
    )
    assert pinned.conda_file.strip() == conda.strip()


def test_a_job_reads_a_local_data_input_and_a_registered_data_asset(cli, node, project, settings):
    settings.STUDIO_PUBLIC_URL = cli.url
    write(cli.cwd, "project/data/diabetes.csv", DIABETES)
    write(cli.cwd, "project/data.yml", "name: diabetes\ntype: uri_file\npath: ./data/diabetes.csv\n")
    assert cli("data", "create", "-f", "project/data.yml").code == 0
    results = [
        cli(
            "job",
            "create",
            "-f",
            "project/job.yml",
            "--stream",
            "--set",
            "inputs.training_data.type=uri_file",
            "--set",
            f"inputs.training_data.path={path}",
        )
        for path in ("./data/diabetes.csv", "azureml:diabetes@latest")  # a local file, a registered asset
    ]

    for result in results:
        assert result.code == 0, result
        assert "Training on 5 rows" in result.out


SWEEP_TRAIN = """
import sys
import mlflow

mlflow.log_metric("score", float(sys.argv[1]) * 10 + float(sys.argv[2]))
"""
SWEEP = """\
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
trial:
  code: src
  command: python train.py ${{search_space.a}} ${{search_space.b}}
  environment: azureml:host-python@latest
compute: azureml:local
search_space:
  a:
    type: choice
    values: [1, 2]
  b:
    type: choice
    values: [3, 5]
objective:
  primary_metric: score
  goal: maximize
sampling_algorithm: grid
limits:
  max_total_trials: 4
  max_concurrent_trials: 2
"""


def test_a_sweep_yaml_uploads_its_trial_code_and_bad_bounds_name_their_line(cli, no_dispatch, host_python):
    from jobs.models import Job

    write(cli.cwd, "sweep/src/train.py", SWEEP_TRAIN)
    write(cli.cwd, "sweep/sweep.yml", SWEEP)
    write(cli.cwd, "sweep/bad.yml", SWEEP.replace("type: choice\n    values: [3, 5]", "type: randint\n    upper: 0"))

    created = cli("job", "create", "-f", "sweep/sweep.yml", "--name", "tune", "-o", "json")
    refused = cli("job", "create", "-f", "sweep/bad.yml")

    assert created.code == 0, created
    assert json.loads(created.out)["type"] == "sweep"
    trials = Job.objects.filter(parent__name="tune")
    assert trials.count() == 4, "two running, the next two ready"
    assert all(t.code is not None and t.code.file_count == 1 for t in trials)
    assert refused.code == 1
    assert "bad.yml, line 14: search_space.b.upper" in refused.err and "from 1" in refused.err
