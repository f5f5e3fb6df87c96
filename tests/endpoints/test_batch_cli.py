"""The batch endpoint commands end to end: Azure ML batchEndpoint and modelBatchDeployment YAML
through the real `studio` command line, a local folder invoked, the mini-batches run on the real
runner, and `studio job download --output-name score` bringing back predictions.csv."""

from __future__ import annotations

import csv
import json

from jobs.models import Job, JobStatus
from tests.cli.conftest import write
from tests.endpoints.conftest import DRIVER
from tests.jobs.conftest import make_environment, wait_status

ENDPOINT = """
$schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
name: doubler-batch
description: Doubles x.
auth_mode: aad_token
"""

DEPLOYMENT = """
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
name: blue
endpoint_name: doubler-batch
type: model
model: azureml:doubler:1
code_configuration:
  code: driver
  scoring_script: score.py
environment: azureml:plain:1
compute: azureml:local
resources:
  instance_count: 2
settings:
  max_concurrency_per_instance: 1
  mini_batch_size: 2
  output_action: append_row
  output_file_name: predictions.csv
  retry_settings:
    max_retries: 1
    timeout: 60
  error_threshold: -1
"""


def test_batch_endpoint_commands_create_invoke_and_download_predictions(node, cli, alice, alice_workspace):
    from registry import services as registry

    sink = registry.upload_sink_for(alice_workspace)
    sink.open("factor.txt").write(b"3")
    sink.finish()
    registry.do_create_model_version_from_upload(alice_workspace, sink, actor=alice, name="doubler")
    make_environment(alice_workspace, alice, "plain")
    write(cli.cwd, "endpoint.yml", ENDPOINT)
    write(cli.cwd, "deployment.yml", DEPLOYMENT)
    write(cli.cwd, "driver/score.py", DRIVER)
    for name in "abc":
        write(cli.cwd, f"data/{name}.csv", "x\n1\n2\n")

    assert (made := cli("batch-endpoint", "create", "--file", "endpoint.yml")).code == 0, made
    assert (made := cli("batch-deployment", "create", "--file", "deployment.yml")).code == 0, made
    listed = cli("batch-endpoint", "list")
    assert listed.code == 0 and "doubler-batch" in listed.out and "blue" in listed.out

    invoked = cli("-o", "json", "batch-endpoint", "invoke", "doubler-batch", "--input", "data")
    assert invoked.code == 0, invoked
    name = json.loads(invoked.out)["name"]
    job = wait_status(Job.objects.get(name=name), (JobStatus.COMPLETED, JobStatus.FAILED), 240)
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    jobs = cli("batch-endpoint", "list-jobs", "doubler-batch")
    assert jobs.code == 0 and "2/2" in jobs.out

    downloaded = cli("job", "download", name, "--output-name", "score", "-p", "out")
    assert downloaded.code == 0, downloaded
    with open(cli.cwd / "out" / name / "score" / "predictions.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "x", "y"] and len(rows) == 7
    assert {float(r[2]) for r in rows[1:]} == {3.0, 6.0}

    # Bad YAML keys come back at their line in the file.
    write(
        cli.cwd,
        "bad.yml",
        DEPLOYMENT.replace("name: blue", "name: green").replace("mini_batch_size: 2", "mini_batch_size: 0"),
    )
    bad = cli("batch-deployment", "create", "--file", "bad.yml")
    assert bad.code != 0 and "bad.yml" in bad.err and "mini_batch_size" in bad.err
    assert cli("batch-deployment", "delete", "green", "-e", "doubler-batch").code != 0
    assert cli("batch-endpoint", "delete", "doubler-batch").code == 0
    assert "doubler-batch" not in cli("batch-endpoint", "list").out
