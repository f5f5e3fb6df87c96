"""Submission paths: JSON with a code id, multipart CLI YAML + zip, names, inputs, code snapshots."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from jobs import services
from jobs.code import snapshot_from_zip
from jobs.models import CodeSnapshot, Job, JobStatus
from jobs.spec import parse_job_spec, render_command
from studio.models import ActivityEvent
from tests.conftest import token_client
from tests.jobs.conftest import make_zip, wait_status
from tests.jobs.test_run_venv import submit

DP100_YAML = """
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: src
command: >-
  python train.py
  --reg_rate ${{inputs.reg_rate}}
  --model_dir ${{outputs.model_dir}}
inputs:
  reg_rate: 0.01
outputs:
  model_dir:
    type: uri_folder
environment: azureml:plain@latest
compute: azureml:local
experiment_name: diabetes-training
display_name: diabetes-train
description: Train a classification model on diabetes data.
tags:
  course: DP-100
limits:
  timeout: 600
"""

DP100_TRAIN = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--reg_rate", type=float)
parser.add_argument("--model_dir")
args = parser.parse_args()
print("Regularization rate:", args.reg_rate)
os.makedirs(args.model_dir, exist_ok=True)
open(os.path.join(args.model_dir, "model.txt"), "w").write(f"reg={args.reg_rate}")
print("saved to", args.model_dir)
"""


def test_a_dp100_style_job_yaml_runs_from_a_multipart_submission(node, workspace, owner, plain_env):
    api = token_client(owner)
    response = api.post(
        f"/api/v1/workspaces/{workspace.name}/jobs/",
        {"spec": DP100_YAML, "code": make_zip({"train.py": DP100_TRAIN})},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["experiment_name"] == "diabetes-training" and body["display_name"] == "diabetes-train"
    assert body["limits"] == {"timeout": 600} and body["tags"] == {"course": "DP-100"}
    job = wait_status(Job.objects.get(name=body["name"]), (JobStatus.COMPLETED, JobStatus.FAILED))
    text = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()["text"]
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, text)
    assert "Regularization rate: 0.01" in text
    files = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/outputs/").json()["files"]
    assert files == [{"path": "model_dir/model.txt", "size": 8, "output_name": "model_dir"}]
    assert job.source == "yaml"


def test_inputs_cannot_inject_shell(node, workspace, owner, plain_env):
    api = token_client(owner)
    evil = "x'; touch /tmp/studio-pwned; echo '$(id) `id` && rm -rf /"
    job = submit(
        api,
        workspace,
        {
            "command": "python show.py ${{inputs.text}} ${{inputs.n}}",
            "environment": "plain:1",
            "inputs": {"text": evil, "n": {"type": "integer", "value": 7}},
        },
        code={"show.py": "import sys\nprint(repr(sys.argv[1:]))\n"},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED))
    text = api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()["text"]
    assert job.status == JobStatus.COMPLETED, text
    assert repr([evil, "7"]) in text


def test_render_command_quotes_and_drops_optional_sections():
    cmd = "train --a ${{inputs.a}} $[[--b ${{inputs.b}}]] --out ${{outputs.m}}"
    assert render_command(cmd, {"a": "x y"}, {"m": "/job/outputs/m"}) == "train --a 'x y'  --out /job/outputs/m"
    assert render_command(cmd, {"a": "1", "b": "$(reboot)"}, {"m": "o"}) == "train --a 1 --b '$(reboot)' --out o"


def test_spec_errors_name_the_field_and_line():
    with pytest.raises(ValidationError) as exc:
        parse_job_spec({"command": "python x.py ${{inputs.missing}}", "environment": "e:1"})
    assert "no input 'missing'" in str(exc.value)
    from jobs.spec import load_spec_text

    with pytest.raises(ValidationError) as exc:
        parse_job_spec(load_spec_text("command: echo\nenvironment: e:1\ncompte: local\n"))
    assert "'compte' (line 3)" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        parse_job_spec({"command": "echo", "environment": "e:1", "limits": {"timeout": -1}})
    assert "limits.timeout" in exc.value.message_dict


def test_json_submission_errors_are_field_messages(no_dispatch, workspace, owner, plain_env):
    api = token_client(owner)
    url = f"/api/v1/workspaces/{workspace.name}/jobs/"
    missing = api.post(url, {"command": "echo", "environment": "nope:1"}, format="json")
    assert missing.status_code == 400 and "nope" in missing.json()["errors"]["environment"][0]
    compute = api.post(url, {"command": "echo", "environment": "plain:1", "compute": "gpu-farm"}, format="json")
    assert compute.status_code == 400 and "gpu-farm" in compute.json()["errors"]["compute"][0]
    path = api.post(url, {"command": "echo", "environment": "plain:1", "code": "./src"}, format="json")
    assert path.status_code == 400 and "POST /codes/" in path.json()["errors"]["code"][0]
    first = api.post(url, {"command": "echo", "environment": "plain:1", "name": "my-run"}, format="json")
    assert first.status_code == 201
    again = api.post(url, {"command": "echo", "environment": "plain:1", "name": "my-run"}, format="json")
    assert again.status_code == 409


def test_a_yaml_body_submits_a_job_and_its_errors_name_the_line(no_dispatch, workspace, owner, plain_env):
    api = token_client(owner)
    url = f"/api/v1/workspaces/{workspace.name}/jobs/"
    text = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
    text += "name: from-yaml\ncommand: echo hi\nenvironment: azureml:plain:1\nexperiment_name: yaml\n"
    response = api.post(url, text.encode(), content_type="application/yaml")
    assert response.status_code == 201, response.content
    job = Job.objects.get(workspace=workspace, name="from-yaml")
    assert (job.command, job.experiment.name, job.environment_version_label) == ("echo hi", "yaml", "1")
    bad = api.post(url, b"command: echo\nenvironment: plain:1\ncompte: local\n", content_type="application/yaml")
    assert bad.status_code == 400 and "line 3" in bad.json()["detail"]


def test_generated_names_look_like_azure_ones(no_dispatch, workspace, owner, plain_env):
    job = services.do_submit_job(workspace, actor=owner, data={"command": "echo", "environment": "plain:1"})
    adjective, noun, suffix = job.name.split("_")
    assert adjective.isalpha() and noun.isalpha() and len(suffix) == 6 and suffix.isalnum()
    assert job.experiment.name == "Default"
    event = ActivityEvent.objects.get(verb="job.submitted")
    assert event.target == job.name and "submitted the job" in event.message


def test_code_snapshots_are_content_addressed(workspace, owner):
    a = snapshot_from_zip(workspace, make_zip({"a.py": "print(1)", "pkg/b.py": "x = 2"}), actor=owner)
    b = snapshot_from_zip(
        workspace, make_zip({"pkg/b.py": "x = 2", "a.py": "print(1)", "__pycache__/a.pyc": b"\0"}), actor=owner
    )
    assert a.pk == b.pk and a.file_count == 2
    assert (a.path / "pkg" / "b.py").read_text() == "x = 2"
    c = snapshot_from_zip(workspace, make_zip({"a.py": "print(2)"}), actor=owner)
    assert c.hash != a.hash
    assert CodeSnapshot.objects.filter(workspace=workspace).count() == 2


@pytest.mark.parametrize("evil", ["../escape.py", "/etc/passwd", "a/../../escape.py", "C:/windows/x.py"])
def test_zip_slip_is_refused(workspace, owner, evil):
    with pytest.raises(ValidationError):
        snapshot_from_zip(workspace, make_zip({"ok.py": "1", evil: "bad"}), actor=owner)


def test_symlinks_in_a_zip_are_refused(workspace, owner):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777) << 16
        archive.writestr(info, "/etc/passwd")
    buf.seek(0)
    with pytest.raises(ValidationError, match="symbolic link"):
        snapshot_from_zip(workspace, buf, actor=owner)


def test_codes_endpoint_returns_an_id_and_lists_files(workspace, owner):
    api = token_client(owner)
    answer = api.post(
        f"/api/v1/workspaces/{workspace.name}/codes/", {"file": make_zip({"t.py": "1"})}, format="multipart"
    )
    assert answer.status_code == 201
    code_id = answer.json()["id"]
    detail = api.get(f"/api/v1/workspaces/{workspace.name}/codes/{code_id}/").json()
    assert detail["files"] == [{"path": "t.py", "size": 1}]
    bad = api.post(
        f"/api/v1/workspaces/{workspace.name}/codes/", {"file": io.BytesIO(b"not a zip")}, format="multipart"
    )
    assert bad.status_code == 400


def test_jobs_list_filters_and_sorts(no_dispatch, workspace, owner, members, plain_env):
    for i in range(3):
        services.do_submit_job(
            workspace,
            actor=owner,
            data={
                "command": "echo",
                "environment": "plain:1",
                "experiment_name": "exp-a" if i else "exp-b",
                "name": f"job-{i}",
            },
        )
    services.do_submit_job(
        workspace, actor=members["data_scientist"], data={"command": "echo", "environment": "plain:1", "name": "ds-job"}
    )
    Job.objects.filter(name="job-0").update(status=JobStatus.FAILED)
    api = token_client(members["reader"])
    url = f"/api/v1/workspaces/{workspace.name}/jobs/"
    assert api.get(url).json()["count"] == 4
    assert [j["name"] for j in api.get(url, {"status": "Failed"}).json()["results"]] == ["job-0"]
    assert {j["name"] for j in api.get(url, {"experiment": "exp-a"}).json()["results"]} == {"job-1", "job-2"}
    assert [j["name"] for j in api.get(url, {"created_by": "datascientist_user"}).json()["results"]] == ["ds-job"]
    assert [j["name"] for j in api.get(url, {"sort": "name"}).json()["results"]] == [
        "ds-job",
        "job-0",
        "job-1",
        "job-2",
    ]
    experiments = api.get(f"/api/v1/workspaces/{workspace.name}/experiments/").json()["results"]
    assert {e["name"]: e["job_count"] for e in experiments} == {"Default": 1, "exp-a": 2, "exp-b": 1}
    exp = api.get(f"/api/v1/workspaces/{workspace.name}/experiments/exp-a/").json()
    assert {j["name"] for j in exp["jobs"]} == {"job-1", "job-2"}


def test_outsiders_get_404_and_readers_cannot_submit(no_dispatch, workspace, owner, members, outsider, plain_env):
    job = services.do_submit_job(workspace, actor=owner, data={"command": "echo", "environment": "plain:1"})
    stranger = token_client(outsider)
    assert stranger.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/").status_code == 404
    assert stranger.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").status_code == 404
    reader = token_client(members["reader"])
    denied = reader.post(
        f"/api/v1/workspaces/{workspace.name}/jobs/", {"command": "echo", "environment": "plain:1"}, format="json"
    )
    assert denied.status_code == 403
    scientist = token_client(members["data_scientist"])
    allowed = scientist.post(
        f"/api/v1/workspaces/{workspace.name}/jobs/", {"command": "echo", "environment": "plain:1"}, format="json"
    )
    assert allowed.status_code == 201
