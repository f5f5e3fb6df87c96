"""A job that names an Azure ML curated environment runs in Studio's closest one, and says so."""

from __future__ import annotations

import pytest

from jobs import services
from jobs.models import JobEvent
from studio import logs

pytestmark = pytest.mark.django_db


def test_a_job_with_an_azure_name_says_in_its_system_log_which_environment_it_used(no_dispatch, workspace, owner):
    job = services.do_submit_job(
        workspace, actor=owner, data={"command": "echo hi", "environment": "azureml:AzureML-sklearn-1.5@latest"}
    )
    assert job.environment_name == "Studio-sklearn-1.9"
    assert job.environment_ref == "azureml:AzureML-sklearn-1.5@latest"
    system_log = logs.read_all(job.log_stream("system_logs/lifecycler/execution-wrapper.txt"))
    assert "azureml:AzureML-sklearn-1.5@latest" in system_log and "Studio-sklearn-1.9:" in system_log
    assert JobEvent.objects.filter(job=job, message__contains="closest curated environment").exists()
