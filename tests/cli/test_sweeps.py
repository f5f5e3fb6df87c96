"""`studio job create --file sweep.yml --stream`: the trials' starts and ends and the best so far
stream to stderr while the sweep runs on an in-process node; the exit code is the sweep's."""

from __future__ import annotations

import re

from jobs.models import Job, JobStatus
from tests.cli.conftest import write
from tests.cli.test_jobs import host_python  # noqa: F401 - fixture
from tests.sweeps.conftest import LIGHT_TRIAL

SWEEP = """\
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
trial:
  code: src
  command: python t.py ${{search_space.x}} 0 2 0.1
  environment: azureml:host-python:1
compute: local
search_space:
  x: {type: choice, values: [1, 3, 2]}
objective: {primary_metric: score, goal: maximize}
sampling_algorithm: grid
limits: {max_total_trials: 3, max_concurrent_trials: 1}
"""


def test_create_stream_follows_trials_and_the_best_so_far(cli, node, host_python, settings, live_server):  # noqa: F811
    settings.STUDIO_PUBLIC_URL = live_server.url
    write(cli.cwd, "src/t.py", LIGHT_TRIAL)
    write(cli.cwd, "sweep.yml", SWEEP)

    result = cli("job", "create", "--file", "sweep.yml", "--stream", timeout=240)

    assert result.code == 0, result
    sweep = Job.objects.get(type="sweep")
    assert sweep.status == JobStatus.COMPLETED
    for number in range(3):
        assert re.search(rf"trial {number} started \(\S+_trial_{number}: x=\d\)", result.err), result.err
        assert re.search(rf"trial {number} completed, value \d", result.err), result.err
    assert "best so far: trial" in result.err
    last_best = re.findall(r"best so far: trial \d+, value (\S+)", result.err)[-1]
    assert float(last_best) == 3.0
    assert f"Sweep {sweep.name} ended: Completed" in result.err
    assert cli("job", "stream", sweep.name).code == 0
