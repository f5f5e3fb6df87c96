"""Every state change lands in the workspace's activity log (issue #11): the ones that had no entry
(a build a job starts, a test task, a refused job, a code upload), and a guard that every `do_*`
function of every app records one or says here why not."""

import ast
import sys
from pathlib import Path

import pytest

from compute import services as compute_services
from compute.models import ComputeTarget
from environments.builds import ensure_built
from jobs.models import JobStatus
from jobs.runner import execute_job
from jobs.services import do_create_code_snapshot, do_submit_job
from studio.models import ActivityEvent
from tests.factories import UserFactory, add_member
from tests.jobs.conftest import make_environment, make_zip

ROOT = Path(__file__).resolve().parents[2]
APPS = ("studio", "compute", "environments", "datastores", "jobs", "registry", "tracking", "endpoints", "schedules")
# do_* functions that write no activity event (themselves or through what they call), and why.
EXEMPT = {
    "do_fail_lost_jobs": "the reaper's: recorded as compute.node_lost, each job's end on its timeline",
    "do_create_user": "a user belongs to no workspace; joining one is member.added",
    "do_create_token": "personal, in no workspace: the token list shows it",
    "do_revoke_token": "personal, in no workspace: the token list shows it",
    "do_delete_workspace": "the workspace and its log are gone with it",
    "do_set_job_email": "a personal notification setting, in no workspace",
    "do_bulk": "applies another do_* function to each job, which records its own event",
    "do_add_curated_version": "curated environments belong to no workspace: Studio adds them from its own files",
    "do_connect": "adlfs's connection method, overridden in datastores/storage.py: not a Studio state change",
    "do_release_job": "a sweep's ready trial sent to its queue: submitted is job.submitted, this its timeline",
    # Run data a job logs through MLflow: kept on the run itself, like its log lines.
    **dict.fromkeys(
        [
            "do_log_metrics",
            "do_log_params",
            "do_set_tags",
            "do_delete_tag",
            "do_log_batch",
            "do_finalize_logged_model",
            "do_set_logged_model_tags",
            "do_delete_logged_model_tag",
            "do_log_logged_model_params",
        ],
        "run data logged through MLflow: on the run's own pages",
    ),
}


def recording_functions() -> dict[tuple[Path, str], bool]:
    """(module, function) -> whether it writes an activity event, itself or through a function it
    calls (one of its own module, or any app's do_* function)."""
    bodies: dict[tuple[Path, str], str] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef):
                    bodies[(path.relative_to(ROOT), node.name)] = ast.get_source_segment(source, node)
    records = {key: "activity.record(" in body for key, body in bodies.items()}
    changed = True
    while changed:  # calling a function that records is recording
        changed = False
        for (path, name), body in bodies.items():
            if records[(path, name)]:
                continue
            callees = [(p, n) for (p, n) in bodies if (p == path or n.startswith("do_")) and n != name]
            if any(records[c] and f"{c[1]}(" in body for c in callees):
                records[(path, name)] = changed = True
    return records


def test_every_do_function_writes_an_activity_event_or_says_why_not():
    silent = [
        f"{path}: {name}"
        for (path, name), records in recording_functions().items()
        if name.startswith("do_") and not records and name not in EXEMPT
    ]
    assert not silent, "state changes with no activity entry: " + ", ".join(silent)


@pytest.fixture
def admin(workspace, owner):
    user = UserFactory(username="ada", is_staff=True)
    add_member(workspace, user, "reader", actor=owner)
    return user


def test_a_test_task_is_recorded(admin, workspace, monkeypatch):
    monkeypatch.setattr("compute.tasks.probe.apply_async", lambda *a, **k: None)
    local = ComputeTarget.objects.get(workspace=workspace, name="local")

    compute_services.do_send_probe(local, actor=admin)

    assert ActivityEvent.objects.filter(workspace=workspace, verb="compute.probe_sent", actor=admin).exists()


def test_a_code_upload_is_recorded(workspace, owner):
    snapshot = do_create_code_snapshot(workspace, actor=owner, zip_file=make_zip({"train.py": "print(1)"}))

    event = ActivityEvent.objects.get(workspace=workspace, verb="code.uploaded")
    assert event.actor == owner and event.target == snapshot.hash[:12]


def test_a_build_started_by_a_job_is_recorded(workspace, owner, monkeypatch):
    # What is under test is the record as the build starts, not the 20 s venv build after it.
    monkeypatch.setattr("environments.builds.execute", lambda build, log=None: build)
    version = make_environment(
        workspace, owner, "here", user_managed_dependencies=True, interpreter_path=sys.executable
    )

    ensure_built(version, "venv", workspace=workspace, actor=owner)

    event = ActivityEvent.objects.get(workspace=workspace, verb="environment.build_started")
    assert event.actor == owner and event.target == version.reference


def test_a_job_refused_at_the_claim_is_recorded(workspace, owner, members, monkeypatch):
    monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: None)
    make_environment(workspace, owner, "plain")
    box = compute_services.do_create_compute(
        workspace, data={"name": "box", "type": "computeinstance", "assigned_to": "datascientist_user"}, actor=owner
    )
    job = do_submit_job(
        workspace, actor=members["data_scientist"], data={"command": "echo", "environment": "plain:1", "compute": "box"}
    )
    compute_services.do_update_compute(box, data={"assigned_to": "contributor_user"}, actor=owner)

    assert execute_job(job.pk, node="n@h") == JobStatus.FAILED
    event = ActivityEvent.objects.get(workspace=workspace, verb="job.refused")
    assert event.target == job.name and "contributor_user" in event.data["reason"]
