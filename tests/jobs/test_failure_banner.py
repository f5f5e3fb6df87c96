"""A failed job's banner names the exception the script raised, not only its exit code."""

from __future__ import annotations

import pytest

from jobs.models import JobStatus
from jobs.runner.failure import exception_line
from tests.conftest import token_client
from tests.jobs.conftest import wait_status
from tests.jobs.test_run_venv import submit

TRAIN = """\
def fit(rate):
    if rate <= 0:
        raise ValueError(f"learning rate must be positive, got {rate}")

print("epoch 1")
fit(-0.1)
"""


def test_the_exception_line_is_the_last_one_raised():
    lines = [
        "Traceback (most recent call last):",
        '  File "a.py", line 1, in <module>',
        "KeyError: 'x'",
        "During handling of the above exception, another exception occurred:",
        "Traceback (most recent call last):",
        "RuntimeError: could not load the data",
        "done.",
    ]
    assert exception_line(lines) == "RuntimeError: could not load the data"
    assert exception_line(["epoch 1", "all fine"]) == ""


@pytest.mark.django_db(transaction=True)
def test_a_failed_jobs_banner_shows_the_exception_line(node, workspace, owner, plain_env, client):
    api = token_client(owner)
    job = submit(
        api, workspace, {"command": "python train.py", "environment": "plain@latest"}, code={"train.py": TRAIN}
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED))
    assert job.status == JobStatus.FAILED and job.exit_code == 1
    assert job.failure_reason == (
        "ValueError: learning rate must be positive, got -0.1 (the command exited with code 1)"
    )
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/jobs/{job.name}/").content.decode()
    assert "ValueError: learning rate must be positive, got -0.1" in page
