"""A job, sweep or pipeline may be named `new`: its page is reachable at `…/<section>/new/`, where
the creation forms used to be. The forms live at `/w/<ws>/new/<kind>/`, which no job name can
reach; the old addresses send there while no job of that name is visible."""

from __future__ import annotations

from jobs import services as job_services
from jobs.models import Job, JobType

SWEEP = {
    "type": "sweep",
    "name": "new",
    "compute": "local",
    "trial": {"command": "python t.py ${{search_space.x}}", "environment": "azureml:plain:1"},
    "search_space": {"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
    "objective": {"primary_metric": "score", "goal": "maximize"},
    "sampling_algorithm": {"type": "random", "seed": 1},
    "limits": {"max_total_trials": 2, "max_concurrent_trials": 1},
}


def test_a_sweep_named_new_has_its_page_where_the_form_was(client, owner, workspace, plain_env, no_dispatch):
    sweep = job_services.do_submit_job(workspace, actor=owner, data=SWEEP)
    assert sweep.name == "new" and sweep.type == JobType.SWEEP
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/sweeps/new/")
    assert page.status_code == 200
    assert 'name="primary_metric"' not in page.content.decode()
    # The job page of a sweep leads to its sweep page, as for any other name.
    assert client.get(f"/w/{workspace.name}/jobs/new/").url == f"/w/{workspace.name}/sweeps/new/"
    # The form is still one click away, at an address no job name can take.
    assert 'name="primary_metric"' in client.get(f"/w/{workspace.name}/new/sweep/").content.decode()


def test_a_command_job_named_new_has_its_page_and_the_sweep_address_still_leads_to_the_form(
    client, owner, workspace, plain_env, no_dispatch
):
    job = job_services.do_submit_job(
        workspace, actor=owner, data={"name": "new", "command": "true", "environment": "azureml:plain:1"}
    )
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/jobs/new/")
    assert page.status_code == 200 and job.name.encode() in page.content
    assert 'name="command"' not in page.content.decode()  # its page, not the job form
    # No sweep is named `new`: the old sweep form address sends to the form.
    moved = client.get(f"/w/{workspace.name}/sweeps/new/")
    assert moved.status_code == 302 and moved.url == f"/w/{workspace.name}/new/sweep/"


def test_old_form_addresses_send_to_the_forms_keeping_the_query_and_a_posts_method(client, owner, workspace):
    client.force_login(owner)
    for section, kind in (("jobs", "job"), ("sweeps", "sweep"), ("pipelines", "pipeline")):
        moved = client.get(f"/w/{workspace.name}/{section}/new/?from=bookmark")
        assert moved.status_code == 302, (section, moved.status_code)
        assert moved.url == f"/w/{workspace.name}/new/{kind}/?from=bookmark"
        assert client.get(moved.url).status_code == 200
        posted = client.post(f"/w/{workspace.name}/{section}/new/", {"spec": "x"})
        assert posted.status_code == 307 and posted.url == f"/w/{workspace.name}/new/{kind}/"
    assert not Job.objects.filter(workspace=workspace).exists()


def test_an_outsider_learns_nothing_from_the_old_address(client, owner, outsider, workspace, plain_env, no_dispatch):
    client.force_login(outsider)
    before = client.get(f"/w/{workspace.name}/jobs/new/")
    job_services.do_submit_job(
        workspace, actor=owner, data={"name": "new", "command": "true", "environment": "azureml:plain:1"}
    )
    after = client.get(f"/w/{workspace.name}/jobs/new/")
    assert (before.status_code, before.url) == (after.status_code, after.url) == (302, f"/w/{workspace.name}/new/job/")
    assert client.get(after.url).status_code == 404
    assert client.get(f"/w/{workspace.name}/jobs/new/outputs/").status_code == 404
