"""Archiving jobs, and bulk cancel/archive/restore from the jobs list: each job through its own
service, refused per job with the reason (unfinished, not allowed, unknown)."""

from __future__ import annotations

from jobs import services
from jobs.models import Job, JobStatus
from studio.models import ActivityEvent
from tests.conftest import token_client
from tests.jobs.test_pages import _finished_job


def _queued(workspace, owner, **extra):
    return services.do_submit_job(workspace, actor=owner, data={"command": "echo", "environment": "plain:1", **extra})


def test_bulk_archive_hides_jobs_and_a_filter_shows_and_restores_them(client, no_dispatch, workspace, owner, plain_env):
    done = _finished_job(workspace, owner, display_name="finished-one")
    running = _queued(workspace, owner, display_name="still-queued")
    client.force_login(owner)
    url = f"/w/{workspace.name}/jobs/"
    response = client.post(url + "bulk/", {"action": "archive", "job": [done.name, running.name]}, follow=True)
    text = response.content.decode()
    assert "1 job(s) archived" in text
    assert f"{running.name}: Job {running.name} is Queued: cancel it before archiving it." in text
    assert Job.objects.get(pk=done.pk).archived_at is not None
    assert Job.objects.get(pk=running.pk).archived_at is None
    assert ActivityEvent.objects.filter(verb="job.archived", target=done.name).exists()

    listing = client.get(url).content.decode()
    assert "still-queued" in listing and "finished-one" not in listing
    only = client.get(url + "?archived=only").content.decode()
    assert "finished-one" in only and "still-queued" not in only and "archived</span>" in only

    client.post(url + "bulk/", {"action": "restore", "job": [done.name]})
    assert "finished-one" in client.get(url).content.decode()
    assert ActivityEvent.objects.filter(verb="job.restored", target=done.name).exists()


def test_bulk_cancel_cancels_each_and_says_why_one_could_not(client, no_dispatch, workspace, owner, plain_env):
    first, second = _queued(workspace, owner), _queued(workspace, owner)
    done = _finished_job(workspace, owner)
    client.force_login(owner)
    text = client.post(
        f"/w/{workspace.name}/jobs/bulk/",
        {"action": "cancel", "job": [first.name, second.name, done.name, "nope"]},
        follow=True,
    ).content.decode()
    assert set(Job.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"Canceled"}
    assert "2 job(s) cancel requested" in text
    assert f"{done.name}: Job {done.name} is already Completed; there is nothing to cancel." in text
    assert "nope: no such job in this workspace." in text


def test_reader_sees_no_bulk_controls_and_cannot_bulk_change(client, no_dispatch, workspace, owner, members, plain_env):
    job = _queued(workspace, owner)
    client.force_login(members["reader"])
    page = client.get(f"/w/{workspace.name}/jobs/").content.decode()
    assert 'id="bulk-form"' not in page and 'name="job"' not in page
    text = client.post(f"/w/{workspace.name}/jobs/bulk/", {"action": "cancel", "job": [job.name]}, follow=True)
    assert "your role may not cancel jobs here" in text.content.decode()
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    client.force_login(members["compute_operator"])
    client.post(f"/w/{workspace.name}/jobs/bulk/", {"action": "archive", "job": [job.name]})
    assert Job.objects.get(pk=job.pk).archived_at is None


def test_outsider_cannot_touch_another_workspaces_jobs(client, no_dispatch, workspace, owner, outsider, plain_env):
    job = _finished_job(workspace, owner)
    client.force_login(outsider)
    assert client.post(f"/w/{workspace.name}/jobs/bulk/", {"action": "archive", "job": [job.name]}).status_code == 404
    client.post("/w/ws-other/jobs/bulk/", {"action": "archive", "job": [job.name]})
    assert Job.objects.get(pk=job.pk).archived_at is None


def test_api_archive_and_restore_keep_the_job_reachable_by_name(no_dispatch, workspace, owner, members, plain_env):
    job = _finished_job(workspace, owner)
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}/jobs/"
    assert api.post(base + f"{job.name}/archive/").json()["archived_at"]
    assert api.get(base + f"{job.name}/").status_code == 200
    assert [j["name"] for j in api.get(base).json()["results"]] == []
    assert [j["name"] for j in api.get(base + "?archived=only").json()["results"]] == [job.name]
    assert token_client(members["reader"]).post(base + f"{job.name}/restore/").status_code == 403
    assert api.post(base + f"{job.name}/restore/").json()["archived_at"] is None
    queued = _queued(workspace, owner)
    refused = api.post(base + f"{queued.name}/archive/")
    assert refused.status_code == 409 and "cancel it before archiving" in str(refused.json())
