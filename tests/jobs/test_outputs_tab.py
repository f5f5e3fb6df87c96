"""The Outputs tab's file lists re-read themselves until the job has ended and settled, so a fast
job's last log lines and stored outputs show without a reload."""

from datetime import timedelta

from django.utils import timezone

from jobs.models import Experiment, JobStatus
from jobs.views.detail import FILES_SETTLE_SECONDS
from tests.jobs.test_metrics_pages import make_job


def test_file_lists_keep_refreshing_just_after_the_job_ended(workspace, members, client):
    experiment = Experiment.objects.create(workspace=workspace, name="fast")
    job = make_job(workspace, members["owner"], experiment, "run_fast")
    client.force_login(members["reader"])
    job.ended_at = timezone.now()
    job.save(update_fields=["ended_at"])
    just_ended = client.get(f"/w/ws-main/jobs/{job.name}/outputs/").content.decode()
    assert 'hx-select="#log-files"' in just_ended and 'hx-select="#output-files"' in just_ended
    job.ended_at = timezone.now() - timedelta(seconds=FILES_SETTLE_SECONDS + 1)
    job.save(update_fields=["ended_at"])
    settled = client.get(f"/w/ws-main/jobs/{job.name}/outputs/").content.decode()
    assert 'hx-select="#log-files"' not in settled and "No files were written to outputs/." in settled
    assert job.status == JobStatus.COMPLETED


def test_log_slices_give_the_line_number_only_when_asked(workspace, members, client):
    from studio import logs
    from tests.conftest import token_client

    experiment = Experiment.objects.create(workspace=workspace, name="numbered")
    job = make_job(workspace, members["owner"], experiment, "run_lines")
    logs.append(job.log_stream("user_logs/std_log.txt"), "".join(f"line {i}\n" for i in range(1, 101)))
    client.force_login(members["reader"])
    url = f"/w/ws-main/jobs/{job.name}/log/"
    numbered = client.get(url, {"offset": -8, "lines": "1"}).json()
    assert numbered["text"] == "line 100\n"[-8:] and numbered["line"] == 100
    assert "line" not in client.get(url, {"offset": -8}).json()  # followers that poll skip the count
    api = token_client(members["reader"]).get(
        f"/api/v1/workspaces/ws-main/jobs/{job.name}/logs/", {"offset": -8, "lines": "1"}
    )
    assert api.json() == numbered
