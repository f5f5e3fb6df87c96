"""Schedule fixtures: a command job of the workspace to copy."""

from __future__ import annotations

import pytest

from jobs.services import do_submit_job
from tests.jobs.conftest import _clean_job_dirs, no_dispatch, plain_env  # noqa: F401 - fixtures


@pytest.fixture
def source_job(workspace, owner, plain_env):  # noqa: F811 - the imported fixture
    """A command job (Queued; nothing runs it) that schedules may copy."""
    return do_submit_job(
        workspace,
        actor=owner,
        data={
            "name": "nightly-source",
            "command": "echo scheduled",
            "environment": "azureml:plain:1",
            "compute": "local",
            "experiment_name": "nightly",
            "display_name": "Nightly",
            "tags": {"team": "vision"},
        },
    )


def cron_schedule(name: str = "every-minute", job: str = "azureml:nightly-source", **trigger) -> dict:
    return {
        "name": name,
        "display_name": "Every minute",
        "trigger": {"type": "cron", "expression": "* * * * *", "time_zone": "UTC", **trigger},
        "create_job": job,
    }
