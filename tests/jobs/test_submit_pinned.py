"""A sibling's resolution reused (`pinned`): a sweep's next trial is submitted without resolving
its environment and experiment again, and only where that gives the job resolving would give."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import Job, JobEvent
from jobs.services import do_submit_job
from jobs.services.submit import pinned_from
from tests.jobs.conftest import make_environment


def _submit(workspace, owner, **data):
    return do_submit_job(workspace, actor=owner, data={"command": "true", "environment": "plain:1", **data})


def test_a_pinned_sibling_is_submitted_like_a_resolved_one_with_fewer_queries(workspace, owner, plain_env, no_dispatch):
    first = _submit(workspace, owner, environment="plain@latest")
    with CaptureQueriesContext(connection) as resolving:
        again = _submit(workspace, owner, environment="plain@latest")
    pinned = pinned_from(Job.objects.get(pk=first.pk))
    with CaptureQueriesContext(connection) as reusing:
        job = do_submit_job(
            workspace, actor=owner, data={"command": "true", "environment": "plain@latest"}, pinned=pinned
        )
    fields = ("environment_version_id", "environment_name", "environment_version_label", "experiment_id", "compute_id")
    assert [getattr(job, f) for f in fields] == [getattr(again, f) for f in fields]
    assert len(reusing) <= len(resolving) - 3, "the environment and experiment are not looked up again"


def test_a_pinned_version_stays_when_a_newer_one_appears(workspace, owner, plain_env, no_dispatch):
    first = _submit(workspace, owner, environment="plain@latest")
    make_environment(workspace, owner, "plain", environment_variables={"NEWER": "1"})
    pinned = pinned_from(Job.objects.get(pk=first.pk))
    job = do_submit_job(workspace, actor=owner, data={"command": "true", "environment": "plain@latest"}, pinned=pinned)
    assert job.environment_version_label == first.environment_version_label == "1"
    assert _submit(workspace, owner, environment="plain@latest").environment_version_label == "2"


def test_a_pin_for_another_environment_or_experiment_is_not_used(workspace, owner, plain_env, no_dispatch):
    make_environment(workspace, owner, "other")
    pinned = pinned_from(Job.objects.get(pk=_submit(workspace, owner).pk))
    other = do_submit_job(workspace, actor=owner, data={"command": "true", "environment": "other:1"}, pinned=pinned)
    assert other.environment_name == "other"
    moved = do_submit_job(
        workspace,
        actor=owner,
        data={"command": "true", "environment": "plain:1", "experiment_name": "elsewhere"},
        pinned=pinned,
    )
    assert moved.experiment.name == "elsewhere"


def test_nothing_is_pinned_from_an_azure_alias_so_every_job_notes_it(workspace, owner, no_dispatch):
    first = _submit(workspace, owner, environment="AzureML-sklearn-1.5@latest")
    assert pinned_from(Job.objects.get(pk=first.pk)) is None
    notes = JobEvent.objects.filter(job=first, kind=JobEvent.Kind.INFO)
    assert notes.exists(), "the alias is noted on the job"
