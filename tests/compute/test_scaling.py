"""Autoscale, honestly: demand against max_instances, and the operator's hook called with the
desired node count when it changes (a real script writes its argument to a file)."""

import itertools
import stat
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from compute import demand, scaling, services
from compute.models import ComputeTarget, TargetState
from studio.errors import Conflict
from studio.models import ActivityEvent
from tests.compute.conftest import make_target, register
from tests.conftest import token_client

pytestmark = pytest.mark.django_db
_names = itertools.count()


def make_job(target, status):
    """A job on `target` in `status`, written the way the jobs app stores one."""
    from jobs.models import Experiment, Job

    experiment, _ = Experiment.objects.get_or_create(workspace=target.workspace, name="scaling")
    fields = {
        "workspace": target.workspace,
        "name": f"job-{next(_names)}",
        "experiment": experiment,
        "status": status,
        "command": "true",
        "environment_ref": "env@latest",
        "compute": target,
        "compute_name": target.name,
    }
    return Job.objects.create(**fields)


@pytest.fixture
def hook(tmp_path, settings):
    """STUDIO_SCALER_COMMAND pointing at a script that records each call's argument and env."""
    out = tmp_path / "calls.txt"
    script = tmp_path / "scale.py"
    script.write_text(
        "import os, sys\n"
        f"with open({str(out)!r}, 'a') as f:\n"
        "    env = os.environ\n"
        "    f.write(f\"{sys.argv[1]} {env['STUDIO_COMPUTE_ADDRESS']} {env['STUDIO_COMPUTE_QUEUE']}\\n\")\n"
        "sys.exit(int(os.environ.get('SCALE_EXIT', '0')))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    settings.STUDIO_SCALER_COMMAND = f"{sys.executable} {script}"
    return out


def calls(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_demand_counts_queued_and_running_jobs_per_target(cluster, workspace, owner):
    other = make_target(workspace, owner, name="other")
    for status in ("Queued", "Queued", "NotStarted", "Running", "Completed", "Failed"):
        make_job(cluster, status)
    make_job(other, "Preparing")
    counts = demand.counts_for([cluster, other])
    assert (counts[cluster.pk].queued, counts[cluster.pk].running) == (2, 1), "Not started: held by its parent"
    assert (counts[other.pk].queued, counts[other.pk].running) == (0, 1)


def test_finished_jobs_are_no_demand(cluster):
    for status in ("Completed", "Failed", "Canceled"):
        make_job(cluster, status)
    assert demand.counts(cluster) == demand.JobCounts(0, 0)


def test_the_hook_is_called_with_the_desired_count_when_demand_changes(cluster, hook, workspace, owner):
    ComputeTarget.objects.filter(pk=cluster.pk).update(max_instances=3, idle_time_before_scale_down=0)
    cluster.refresh_from_db()
    assert scaling.autoscale() == []  # no demand, min 0: nothing to ask
    jobs = [make_job(cluster, "Queued") for _ in range(2)]
    scaling.autoscale()
    assert calls(hook) == ["2 ws-main/cpu-cluster compute.ws-main.cpu-cluster"]
    scaling.autoscale()  # unchanged demand: not called again
    assert len(calls(hook)) == 1
    for _ in range(3):
        make_job(cluster, "Queued")
    scaling.autoscale()
    assert calls(hook)[-1].startswith("3 ")  # 5 wanted, capped by max_instances
    plan = scaling.plan_for(cluster)
    assert (plan.wanted, plan.desired, plan.capped) == (5, 3, True)
    type(jobs[0]).objects.filter(workspace=workspace).update(status="Completed")
    scaling.autoscale()
    assert calls(hook)[-1].startswith("0 ")
    cluster.refresh_from_db()
    assert cluster.desired_nodes == 0 and cluster.scaler_status.endswith("exit 0")
    event = ActivityEvent.objects.filter(verb="compute.scaled").first()
    assert event.data["desired"] == 0 and event.data["previous"] == 3


def test_min_instances_is_kept_and_scale_down_waits_for_idle_time(cluster, hook):
    ComputeTarget.objects.filter(pk=cluster.pk).update(
        min_instances=1, max_instances=4, idle_time_before_scale_down=300
    )
    scaling.autoscale()
    assert calls(hook) == ["1 ws-main/cpu-cluster compute.ws-main.cpu-cluster"]
    job = make_job(cluster, "Running")
    make_job(cluster, "Queued")
    scaling.autoscale()
    assert calls(hook)[-1].startswith("2 ")
    type(job).objects.update(status="Completed")
    now = timezone.now()
    scaling.autoscale(now=now)
    scaling.autoscale(now=now + timedelta(seconds=299))
    assert calls(hook)[-1].startswith("2 "), "too early to scale down"
    scaling.autoscale(now=now + timedelta(seconds=301))
    assert calls(hook)[-1].startswith("1 "), "min_instances stays up"


def test_instances_want_one_node_while_started(instance, hook, owner):
    scaling.autoscale()
    assert calls(hook) == ["1 ws-main/ds-box compute.ws-main.ds-box"]
    services.do_stop_compute(instance, actor=owner)
    scaling.autoscale()
    assert calls(hook)[-1].startswith("0 ")


def test_a_failing_hook_is_shown_and_fails_a_starting_instance(instance, hook, monkeypatch):
    monkeypatch.setenv("SCALE_EXIT", "3")
    scaling.autoscale()
    instance.refresh_from_db()
    assert "exit 3" in instance.scaler_status
    assert instance.state == TargetState.FAILED and "scaler hook could not start it" in instance.state_message


def test_without_a_hook_studio_only_records_and_shows_the_count(cluster, settings, client, owner):
    settings.STUDIO_SCALER_COMMAND = ""
    make_job(cluster, "Queued")
    scaling.autoscale()
    cluster.refresh_from_db()
    assert cluster.desired_nodes == 1 and cluster.scaler_called_at is None
    client.force_login(owner)
    page = client.get(f"/w/ws-main/compute/{cluster.name}/").content.decode()
    assert "Nothing starts nodes for this target yet" in page
    assert "<strong>1</strong> queued" in page and "<strong>1 node</strong>" in page


def test_the_api_reports_demand_and_nodes(cluster, owner):
    register(cluster)
    make_job(cluster, "Queued")
    body = token_client(owner).get(f"/api/v1/workspaces/ws-main/computes/{cluster.name}/").json()
    assert body["demand"] == {"queued": 1, "running": 0, "wanted": 1, "desired_nodes": 1}
    assert body["nodes"]["total"] == 1 and body["nodes"]["idle"] == 1


def test_a_target_with_unfinished_jobs_cannot_be_deleted(cluster, owner):
    make_job(cluster, "Running")
    with pytest.raises(Conflict, match="1 running job"):
        services.do_delete_compute(cluster, actor=owner)
