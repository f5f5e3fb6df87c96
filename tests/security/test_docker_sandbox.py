"""A job on the docker backend: not root, no capabilities, every line of its output kept, and
leftover cleanup that touches only this install's finished containers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from compute.backends.docker_runner import INSTALL_LABEL, LABEL, NODE_LABEL, docker_client, remove_leftovers
from jobs.models import Job, JobStatus
from studio import logs
from tests.conftest import token_client
from tests.jobs.conftest import wait_for
from tests.security.conftest import FINAL, USER_LOG, run_job, system_log

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("transactional_db", "plain_env")]


def test_a_docker_job_is_not_root_and_has_no_capabilities(node, owner, workspace, docker_target):
    job, out = run_job(
        owner,
        workspace,
        "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; ls /var/run/docker.sock 2>&1; "
        "touch /job/outputs/ok && echo outputs-writable",
        compute="dock",
    )
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, out)
    lines = out.splitlines()
    assert int(lines[0]) != 0
    fields = dict(line.split(":\t") for line in lines[1:4])
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapBnd"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert "No such file or directory" in out and "outputs-writable" in out
    assert "no capabilities" in system_log(job)


def test_a_docker_job_printing_a_million_lines_keeps_every_one(node, owner, workspace, docker_target):
    command = "python3 -c \"import sys; sys.stdout.writelines(f'line {i}\\n' for i in range(1000000))\""
    job, out = run_job(owner, workspace, command, compute="dock")
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    lines = out.splitlines()
    assert len(lines) == 1_000_000
    assert lines[0] == "line 0" and lines[-1] == "line 999999"


@pytest.fixture
def busy_node(monkeypatch):
    """A node with ten job slots (a real worker's concurrency, and what PostgreSQL's connection
    limit allows a test): fifty jobs submitted at once queue for them."""
    from django.db import connection

    from jobs.runner import execute_job

    def work(job_id: int) -> None:
        try:
            execute_job(job_id, node="busy-node@localhost")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        monkeypatch.setattr("jobs.services.submit.send_run", lambda job_id, queue: pool.submit(work, job_id))
        yield


def test_fifty_docker_jobs_at_once_all_complete(owner, workspace, docker_target, busy_node):
    api = token_client(owner)
    names = []
    for i in range(50):
        body = {"command": f"echo job {i}", "environment": "plain:1", "compute": "dock"}
        response = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/", body, format="json")
        assert response.status_code == 201, response.content
        names.append(response.json()["name"])
    jobs = Job.objects.filter(workspace=workspace, name__in=names)
    wait_for(lambda: jobs.filter(status__in=FINAL).count() == 50, timeout=280, interval=0.5)
    failed = {j.name: j.failure_reason for j in jobs.exclude(status=JobStatus.COMPLETED)}
    assert failed == {}
    for job in jobs:
        assert f"job {names.index(job.name)}" in logs.read_all(job.log_stream(USER_LOG))


def test_leftover_cleanup_touches_only_this_installs_containers_on_this_node(docker_target):
    client = docker_client()
    this = settings.STUDIO_INSTALL_ID
    made = {}
    try:
        for key, job, install, node in [
            ("other install", "424242-0", "another-studio", "n1"),
            ("other node", "424242-0", this, "other-node"),
            ("ours", "424242-0", this, "n1"),
            ("ours, gone meanwhile", "424243-0", this, "n1"),
        ]:
            made[key] = client.containers.create(
                settings.STUDIO_BASE_IMAGE,
                command=["true"],
                labels={LABEL: job, INSTALL_LABEL: install, NODE_LABEL: node},
            )

        def is_over(label: str) -> bool:
            if label == "424243-0":  # its own runner removes it while the sweep runs
                made["ours, gone meanwhile"].remove(force=True)
            return True

        assert remove_leftovers(is_over, client, "n1") == 1
        left = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
        assert made["other install"].id in left and made["other node"].id in left
        assert made["ours"].id not in left and made["ours, gone meanwhile"].id not in left
    finally:
        for container in made.values():
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001 - best-effort cleanup of what the test made
                pass
        client.close()
