"""`studio component …` and `studio job create --file pipeline.yml --stream`: component files
referred to as ./prep.yml are read and their code uploaded, every step is followed, a resubmit
reuses every step and says why. Steps run for real on an in-process node (tests/jobs)."""

from __future__ import annotations

import json
import sys

import pytest

from jobs.models import Job, JobStatus, JobType
from pipelines.models import ComponentVersion
from tests.cli.conftest import write

PREP = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: prep
version: 1
display_name: Prepare rows
type: command
inputs:
  n: {type: integer, default: 3}
outputs:
  clean: {type: uri_folder}
code: ./src
environment: azureml:host-python@latest
command: python prep.py ${{inputs.n}} ${{outputs.clean}}
"""
COUNT = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: count
type: command
inputs:
  data: {type: uri_folder}
outputs:
  total: {type: uri_file}
code: ./src
environment: azureml:host-python@latest
command: python count.py ${{inputs.data}} ${{outputs.total}}
"""
PIPELINE = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: rows
experiment_name: cli-pipelines
inputs:
  rows: 4
settings:
  default_compute: azureml:local
jobs:
  prep:
    component: ./prep.yml
    inputs:
      n: ${{parent.inputs.rows}}
  count:
    component: ./count.yml
    inputs:
      data: ${{parent.jobs.prep.outputs.clean}}
"""
PREP_PY = """\
import sys, pathlib
out = pathlib.Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
(out / "rows.txt").write_text("\\n".join(map(str, range(int(sys.argv[1])))))
print("wrote", sys.argv[1], "rows")
"""
COUNT_PY = """\
import sys, pathlib
rows = (pathlib.Path(sys.argv[1]) / "rows.txt").read_text().split()
(pathlib.Path(sys.argv[2]) / "total.txt").write_text(str(len(rows)))
print("counted", len(rows), "rows")
"""


@pytest.fixture
def project(cli):
    write(
        cli.cwd,
        "env.yml",
        "name: host-python\nimage: python:3.11-slim\nuser_managed_dependencies: true\n"
        f"interpreter_path: {sys.executable}\n",
    )
    assert cli("environment", "create", "--file", "env.yml").code == 0
    write(cli.cwd, "pipe/src/prep.py", PREP_PY)
    write(cli.cwd, "pipe/src/count.py", COUNT_PY)
    write(cli.cwd, "pipe/prep.yml", PREP)
    write(cli.cwd, "pipe/count.yml", COUNT)
    write(cli.cwd, "pipe/pipeline.yml", PIPELINE)
    return cli.cwd / "pipe"


def test_component_create_list_show_archive(cli, project):
    created = cli("component", "create", "--file", "pipe/prep.yml", "-o", "json")
    assert created.code == 0, created
    body = json.loads(created.out)
    assert body["name"] == "prep" and body["version"] == "1" and body["inputs"]["n"]["default"] == 3
    assert "Uploading code" in created.err
    listing = cli("component", "list")
    assert listing.code == 0 and "prep" in listing.out and "Prepare rows" in listing.out
    shown = json.loads(cli("component", "show", "prep:1", "-o", "json").out)
    assert shown["command"].startswith("python prep.py") and shown["code"]
    assert cli("component", "archive", "prep:1").code == 0
    assert ComponentVersion.objects.get(component__name="prep").archived
    again = cli("component", "create", "--file", "pipe/prep.yml")
    assert again.code != 0 and "already exists" in again.err


def test_a_component_file_given_to_job_create_points_to_component_create(cli, project):
    result = cli("job", "create", "--file", "pipe/prep.yml")
    assert result.code != 0
    assert "pipe/prep.yml, line 3" in result.err and "studio component create --file pipe/prep.yml" in result.err


def test_pipeline_create_stream_follows_every_step_then_reuses_them(cli, node, project):
    first = cli("job", "create", "--file", "pipe/pipeline.yml", "--stream", timeout=240)
    assert first.code == 0, first
    parent = Job.objects.get(type=JobType.PIPELINE)
    assert parent.status == JobStatus.COMPLETED
    assert "[prep] wrote 4 rows" in first.out and "[count] counted 4 rows" in first.out
    assert f"{parent.name} / prep: running" in first.err and "first run of prep" in first.err
    assert f"Pipeline {parent.name} ended: Completed" in first.err
    assert {v.reference for v in ComponentVersion.objects.all()} == {"prep:1", "count:1"}

    second = cli("job", "create", "--file", "pipe/pipeline.yml", "--stream", timeout=120)
    assert second.code == 0, second
    assert "prep: reused (" not in second.err and "/ prep: reused - reused from" in second.err
    assert "same component count:1, same code" in second.err

    broken = project / "pipeline.yml"
    broken.write_text(PIPELINE.replace("outputs.clean", "outputs.cleaned"))
    bad = cli("job", "create", "--file", "pipe/pipeline.yml")
    assert bad.code != 0
    assert "pipe/pipeline.yml, line 17" in bad.err and "step 'prep' has no output 'cleaned' (it has: clean)" in bad.err
