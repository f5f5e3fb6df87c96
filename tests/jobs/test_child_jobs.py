"""Child jobs: a parent's type handler hears (on commit) each time a child ends, and the jobs list
folds children under their parent."""

from __future__ import annotations

from jobs import children, services
from jobs.models import Job, JobStatus, JobType
from jobs.runner.lifecycle import advance


def _parent(workspace, owner):
    job = services.do_submit_job(workspace, actor=owner, data={"command": "true", "environment": "plain:1"})
    Job.objects.filter(pk=job.pk).update(type=JobType.SWEEP, status=JobStatus.RUNNING)
    job.refresh_from_db()
    return job


def _child(workspace, owner, parent, name):
    return services.do_submit_job(
        workspace,
        actor=owner,
        data={"command": "true", "environment": "plain:1", "name": name},
        parent=parent,
    )


def test_the_parent_handler_hears_when_a_child_ends_after_commit(
    monkeypatch, no_dispatch, workspace, owner, plain_env, django_capture_on_commit_callbacks
):
    heard = []
    monkeypatch.setitem(
        children._handlers,
        JobType.SWEEP,
        children.TypeHandler(submit=None, child_ended=lambda p, c: heard.append((p, c))),
    )
    parent = _parent(workspace, owner)
    child = _child(workspace, owner, parent, "trial-1")
    with django_capture_on_commit_callbacks(execute=True):
        advance(child.pk, JobStatus.QUEUED, JobStatus.PREPARING)
    assert heard == [], "a child that has not ended is not reported"
    with django_capture_on_commit_callbacks(execute=True):
        services.do_cancel_job(child, actor=owner)
    assert heard == [(parent.pk, child.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        services.do_cancel_job(parent, actor=owner)
    assert heard == [(parent.pk, child.pk)], "a job without a parent tells no one"


def test_the_jobs_list_folds_children_under_their_parent(client, no_dispatch, workspace, owner, plain_env):
    parent = _parent(workspace, owner)
    _child(workspace, owner, parent, "trial-a")
    _child(workspace, owner, parent, "trial-b")
    services.do_submit_job(workspace, actor=owner, data={"command": "true", "environment": "plain:1", "name": "solo"})
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/jobs/").content.decode()
    assert page.count('class="child-row"') == 2
    assert page.index(parent.name) < page.index("trial-b") < page.index("trial-a")
    assert page.index("solo") < page.index(parent.name), "newest top-level job first"
    experiment = client.get(f"/w/{workspace.name}/experiments/Default/").content.decode()
    assert experiment.count('class="child-row"') == 2 and experiment.count('aria-label="Compare trial-a"') == 1
