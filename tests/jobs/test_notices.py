"""Telling users their jobs ended: the toast feed (own jobs only, by cursor) and the opt-in e-mail
sent through Django's mail settings by a Celery task after the final status commits."""

from __future__ import annotations

import pytest
from django.db import transaction

from jobs import services
from jobs.models import JobStatus
from jobs.runner.lifecycle import advance
from studio.celery import app
from studio.models import Membership
from studio.services import do_remove_member
from tests.jobs.test_pages import _finished_job

pytestmark = pytest.mark.usefixtures("no_dispatch", "plain_env")


@pytest.fixture
def eager_celery():
    """Run Celery tasks in-process (the real task code, without a broker)."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_feed_hands_out_a_cursor_then_only_my_jobs_that_ended_since(client, workspace, owner, members):
    client.force_login(owner)
    first = client.get("/notifications/jobs/").json()
    assert first["jobs"] == [] and isinstance(first["cursor"], int)
    _finished_job(workspace, owner, display_name="mine")
    _finished_job(workspace, members["contributor"], display_name="theirs")
    feed = client.get(f"/notifications/jobs/?since={first['cursor']}").json()
    assert [(j["display_name"], j["status"], j["workspace"]) for j in feed["jobs"]] == [
        ("mine", "Completed", "ws-main")
    ]
    assert feed["jobs"][0]["url"].startswith("/w/ws-main/jobs/")
    assert client.get("/notifications/jobs/?since=yesterday").status_code == 400


def test_feed_forgets_a_workspace_i_left_and_refuses_signed_out_polls(client, workspace, owner, members):
    user = members["contributor"]
    client.force_login(user)
    cursor = client.get("/notifications/jobs/").json()["cursor"]
    _finished_job(workspace, user)
    do_remove_member(Membership.objects.get(workspace=workspace, user=user), actor=owner)
    assert client.get(f"/notifications/jobs/?since={cursor}").json()["jobs"] == []
    client.logout()
    assert client.get("/notifications/jobs/?since=0").status_code == 403


def test_email_is_off_by_default_and_sent_once_on_commit_when_opted_in(
    client, workspace, owner, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _finished_job(workspace, owner)
    assert mailoutbox == []

    client.force_login(owner)
    client.post("/account/notifications/", {"email_on_job_end": "on"})
    assert 'name="email_on_job_end" checked' in client.get("/account/notifications/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.do_submit_job(
            workspace, actor=owner, data={"command": "x", "environment": "plain:1", "display_name": "nightly"}
        )
        services.do_cancel_job(job, actor=owner)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [owner.email] and mail.subject == "[Studio] nightly: Canceled"
    assert f"/w/ws-main/jobs/{job.name}/" in mail.body and "Canceled by olivia" in mail.body

    client.post("/account/notifications/", {})
    with django_capture_on_commit_callbacks(execute=True):
        _finished_job(workspace, owner)
    assert len(mailoutbox) == 1


def test_no_email_for_a_status_change_that_was_rolled_back(workspace, owner, mailoutbox, eager_celery, client):
    client.force_login(owner)
    client.post("/account/notifications/", {"email_on_job_end": "on"})
    job = services.do_submit_job(workspace, actor=owner, data={"command": "x", "environment": "plain:1"})
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            advance(job.pk, JobStatus.QUEUED, JobStatus.CANCELED)
            raise RuntimeError("rolled back")
    assert mailoutbox == []


def test_user_without_address_cannot_turn_email_on(client, workspace, owner):
    owner.email = ""
    owner.save()
    client.force_login(owner)
    text = client.post("/account/notifications/", {"email_on_job_end": "on"}, follow=True).content.decode()
    assert "no e-mail address" in text
    assert not hasattr(owner, "job_notifications") or not owner.job_notifications.email_on_job_end
