"""The jobs pages: list, job tabs, the form (folder upload, clone), cancel/delete buttons by role,
and the log endpoints behind the viewer (slice, SSE resume with Last-Event-ID, download)."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from jobs import services
from jobs.models import Job, JobStatus
from jobs.runner import failure
from jobs.runner.lifecycle import advance
from studio import logs
from tests.conftest import token_client
from tests.jobs.conftest import make_zip


def _finished_job(workspace, owner, text="line one\nline two\n", **extra):
    job = services.do_submit_job(
        workspace, actor=owner, data={"command": "python t.py", "environment": "plain:1", **extra}
    )
    advance(job.pk, JobStatus.QUEUED, JobStatus.PREPARING, node="n")
    advance(job.pk, JobStatus.PREPARING, JobStatus.RUNNING)
    logs.append(job.log_stream("user_logs/std_log.txt"), text)
    advance(job.pk, JobStatus.RUNNING, JobStatus.FINALIZING)
    advance(job.pk, JobStatus.FINALIZING, JobStatus.COMPLETED)
    job.refresh_from_db()
    return job


def test_jobs_list_and_every_tab_render(client, no_dispatch, workspace, owner, plain_env):
    job = _finished_job(workspace, owner, display_name="Nice <b>run</b>")
    client.force_login(owner)
    listing = client.get(f"/w/{workspace.name}/jobs/")
    assert listing.status_code == 200
    assert b"Nice &lt;b&gt;run&lt;/b&gt;" in listing.content
    rows = client.get(f"/w/{workspace.name}/jobs/?status=Failed", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-rows")
    assert b"No job matches" in rows.content and b"<html" not in rows.content
    for tab in ("", "outputs/", "metrics/", "code/", "environment/"):
        page = client.get(f"/w/{workspace.name}/jobs/{job.name}/{tab}")
        assert page.status_code == 200, tab
        assert b'class="tabs"' in page.content, f"{tab} is a whole job page"
    assert client.get(f"/w/{workspace.name}/experiments/").status_code == 200
    assert client.get(f"/w/{workspace.name}/experiments/Default/").status_code == 200
    status = client.get(f"/w/{workspace.name}/jobs/{job.name}/status/")
    assert status.status_code == 286, "polling stops once the job is over"


def test_log_slice_stream_resume_and_download(client, no_dispatch, workspace, owner, plain_env):
    job = _finished_job(workspace, owner, text="\x1b[31mred\x1b[0m\nprogress 10%\rprogress 100%\nlast\n")
    client.force_login(owner)
    base = f"/w/{workspace.name}/jobs/{job.name}/log/"
    tail = client.get(base, {"offset": -5}).json()
    assert tail["text"] == "last\n" and tail["final"] is True
    stream = client.get(base + "stream/", {"offset": 0})
    assert stream["Content-Type"] == "text/event-stream"
    events = b"".join(stream.streaming_content).decode()
    assert "event: log" in events and "event: end" in events
    first = json.loads(next(line[6:] for line in events.splitlines() if line.startswith('data: {"offset"')))
    assert first["text"].startswith("\x1b[31mred")
    resumed = b"".join(client.get(base + "stream/", HTTP_LAST_EVENT_ID="23").streaming_content).decode()
    data = json.loads(next(line[6:] for line in resumed.splitlines() if line.startswith('data: {"offset"')))
    assert data["offset"] == 23, "Last-Event-ID wins over ?offset"
    download = client.get(base + "download/")
    assert b"".join(download.streaming_content).endswith(b"last\n")
    api = token_client(owner).get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/", {"offset": -5})
    assert api.json() == tail, "the API and the log viewer answer a slice alike"
    assert client.get(base, {"file": "../../etc/passwd"}).status_code == 404


def test_the_form_submits_a_folder_and_clone_prefills(client, no_dispatch, workspace, owner, plain_env):
    client.force_login(owner)
    form = client.get(f"/w/{workspace.name}/new/job/")
    assert form.status_code == 200 and b"plain" in form.content
    response = client.post(
        f"/w/{workspace.name}/new/job/",
        {
            "code_source": "folder",
            "code_folder": [SimpleUploadedFile("train.py", b"print(1)"), SimpleUploadedFile("util.py", b"x=1")],
            "code_paths": ["proj/train.py", "proj/lib/util.py"],
            "command": "python train.py --lr ${{inputs.lr}}",
            "environment": "plain",
            "environment_version": "1",
            "compute": "local",
            "experiment": "__new__",
            "new_experiment": "from-form",
            "display_name": "Form job",
            "inputs": "lr=0.5\nname=hello world",
            "environment_variables": "MODE=fast",
            "memory": "1g",
            "timeout_minutes": "5",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(display_name="Form job")
    assert response["Location"].endswith(f"/jobs/{job.name}/outputs/")
    assert job.experiment.name == "from-form" and job.source == "form"
    assert job.inputs == {"lr": {"type": "number", "value": 0.5}, "name": {"type": "string", "value": "hello world"}}
    assert job.environment_variables == {"MODE": "fast"} and job.timeout_seconds == 300
    assert job.resources == {"memory": 1024**3}
    assert sorted(f.relative_to(job.code.path).as_posix() for f in job.code.path.rglob("*.py")) == [
        "lib/util.py",
        "train.py",
    ]
    clone = client.get(f"/w/{workspace.name}/new/job/", {"clone": job.name})
    body = clone.content.decode()
    assert "python train.py --lr ${{inputs.lr}}" in body and "lr=0.5" in body and job.code.hash in body
    again = client.post(
        f"/w/{workspace.name}/new/job/",
        {
            "code_source": "reuse",
            "code_id": job.code.hash,
            "command": "python train.py",
            "environment": "plain",
            "environment_version": "latest",
            "compute": "local",
            "experiment": "from-form",
        },
    )
    assert again.status_code == 302
    assert Job.objects.exclude(pk=job.pk).get(experiment__name="from-form").code_id == job.code_id


def test_form_errors_are_shown_on_their_fields(client, no_dispatch, workspace, owner, plain_env):
    client.force_login(owner)
    response = client.post(
        f"/w/{workspace.name}/new/job/",
        {
            "code_source": "zip",
            "code_zip": SimpleUploadedFile("c.zip", make_zip({"a.py": "1"}).getvalue()),
            "command": "python a.py ${{inputs.missing}}",
            "environment": "plain",
            "compute": "local",
            "experiment": "Default",
        },
    )
    assert response.status_code == 400
    assert "no input &#x27;missing&#x27;" in response.content.decode()
    bad_zip = client.post(
        f"/w/{workspace.name}/new/job/",
        {
            "code_source": "zip",
            "code_zip": SimpleUploadedFile("c.zip", b"nope"),
            "command": "x",
            "environment": "plain",
            "compute": "local",
            "experiment": "Default",
        },
    )
    assert bad_zip.status_code == 400 and "must be a zip archive" in bad_zip.content.decode()


def test_buttons_and_actions_follow_the_role(client, no_dispatch, workspace, owner, members, plain_env):
    running = services.do_submit_job(workspace, actor=owner, data={"command": "sleep 9", "environment": "plain:1"})
    done = _finished_job(workspace, owner)
    client.force_login(members["reader"])
    page = client.get(f"/w/{workspace.name}/jobs/{running.name}/").content.decode()
    assert 'data-action="cancel"' not in page and ">Clone<" not in page
    assert client.post(f"/w/{workspace.name}/jobs/{running.name}/cancel/").status_code == 403
    assert client.get(f"/w/{workspace.name}/new/job/").status_code == 403
    client.force_login(members["data_scientist"])
    page = client.get(f"/w/{workspace.name}/jobs/{running.name}/").content.decode()
    assert 'data-action="cancel"' in page
    assert client.post(f"/w/{workspace.name}/jobs/{done.name}/delete/").status_code == 403
    assert client.post(f"/w/{workspace.name}/jobs/{running.name}/cancel/").status_code == 302
    assert Job.objects.get(pk=running.pk).status == JobStatus.CANCELED
    client.force_login(members["contributor"])
    assert client.post(f"/w/{workspace.name}/jobs/{done.name}/delete/").status_code == 302
    assert not Job.objects.filter(pk=done.pk).exists()
    assert not logs.read_all(done.log_stream("user_logs/std_log.txt"))


def test_outsiders_get_404_on_job_pages(client, no_dispatch, workspace, owner, outsider, plain_env):
    job = _finished_job(workspace, owner)
    client.force_login(outsider)
    for path in ("", "outputs/", "log/", "log/stream/", "status/"):
        assert client.get(f"/w/{workspace.name}/jobs/{job.name}/{path}").status_code == 404, path


def test_a_failure_excerpt_reads_the_log_as_the_terminal_showed_it(db):
    stream = "job/0/user_logs/std_log.txt"
    logs.append(stream, "\x1b[1;31mloading\x1b[0m 10%\rloading 100%\n\n\x1b[31mValueError: bad input\x1b[0m\n")
    lines = failure.last_lines(stream)
    assert lines == ["loading 10%", "loading 100%", "ValueError: bad input"]
    assert failure.error_excerpt(lines) == "ValueError: bad input"
