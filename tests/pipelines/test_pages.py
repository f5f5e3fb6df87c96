"""The components and pipeline pages, as members of each role and as outsiders: what they show,
what they refuse, and bad input answered with a message (never a 500)."""

from __future__ import annotations

import pytest

from jobs import services as job_services
from pipelines.models import StepState
from pipelines.services import do_create_component_version
from tests.pipelines.conftest import train_component

PIPELINE = """\
type: pipeline
display_name: page pipeline
jobs:
  first:
    type: command
    environment: azureml:plain:1
    command: echo one > ${{outputs.o}}/x
    outputs:
      o: {type: uri_folder}
  second:
    component: azureml:train:1
    inputs:
      data: ${{parent.jobs.first.outputs.o}}
"""


@pytest.fixture
def pipeline(workspace, owner, plain_env, codes, no_dispatch):
    do_create_component_version(workspace, actor=owner, data=train_component(codes["train"]))
    from studio.yamlspec import load_mapping

    return job_services.do_submit_job(workspace, actor=owner, data=load_mapping(PIPELINE))


def test_the_component_pages_show_the_interface_and_the_jobs_that_used_it(client, members, workspace, pipeline):
    client.force_login(members["reader"])
    listing = client.get(f"/w/{workspace.name}/components/").content.decode()
    assert "train" in listing and "Submit a pipeline" not in listing, "a reader is not offered to submit"
    page = client.get(f"/w/{workspace.name}/components/train/versions/1/").content.decode()
    assert "uri_folder" in page and "optional" in page and "python train.py" in page
    assert pipeline.title in page and "first" not in page.split("Jobs that used it")[1].split("Versions")[0]
    assert client.get(f"/w/{workspace.name}/components/train/").status_code == 302
    assert client.get(f"/w/{workspace.name}/components/nothing/").status_code == 404


def test_the_pipeline_page_graph_and_step_panel(client, members, workspace, pipeline, outsider):
    base = f"/w/{workspace.name}/pipelines/{pipeline.name}/"
    client.force_login(members["reader"])
    page = client.get(base).content.decode()
    assert 'id="pipeline-graph"' in page and "Rerun from here" not in page
    assert "Cancel pipeline" not in page, "a reader may not cancel"
    graph = client.get(base + "graph.json").json()
    assert {n["id"]: n["state"] for n in graph["nodes"]} == {"first": "running", "second": "waiting"}
    assert graph["edges"] == [{"source": "first", "target": "second", "label": "o → data"}]
    panel = client.get(base + "steps/first/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-step-panel="first"' in panel and "first run of step first" in panel
    assert client.get(base + "steps/nope/").status_code == 404
    assert client.post(base + "steps/first/rerun/").status_code == 403
    job_page = client.get(f"/w/{workspace.name}/jobs/{pipeline.name}/")
    assert job_page.status_code in (200, 302)
    client.force_login(outsider)
    assert client.get(base).status_code == 404
    assert client.get(base + "graph.json").status_code == 404


def test_submitting_from_the_browser_answers_bad_yaml_with_a_message(client, owner, workspace, plain_env):
    client.force_login(owner)
    url = f"/w/{workspace.name}/new/pipeline/"
    assert client.get(url).status_code == 200
    answer = client.post(url, {"spec": "type: pipeline\njobs:\n  a:\n    component: azureml:ghost:1\n"})
    assert answer.status_code == 400 and "Unknown component" in answer.content.decode()
    answer = client.post(url, {"spec": "type: command\ncommand: x\n"})
    assert answer.status_code == 400 and "type: pipeline" in answer.content.decode()
    answer = client.post(url, {"spec": "jobs: [\n"})
    assert answer.status_code == 400 and "line" in answer.content.decode()


def test_readers_cannot_submit_from_the_browser(client, members, workspace):
    client.force_login(members["reader"])
    assert client.post(f"/w/{workspace.name}/new/pipeline/", {"spec": PIPELINE}).status_code == 403


def test_canceling_a_pipeline_whose_steps_wait_cancels_them(workspace, owner, pipeline):
    canceled = job_services.do_cancel_job(pipeline, actor=owner)
    assert canceled.status == "Canceled"
    states = {s.name: s.state for s in pipeline.pipeline.steps.all()}
    assert states["second"] == StepState.CANCELED


def test_the_browser_form_reads_component_files_and_code_folders_from_the_zip(
    client, owner, workspace, plain_env, no_dispatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jobs import code as code_store
    from pipelines.models import ComponentVersion
    from tests.jobs.conftest import make_zip

    component = (
        "name: shout\ntype: command\ninputs:\n  word: {type: string, default: hi}\n"
        "code: ./src\nenvironment: azureml:plain:1\ncommand: python shout.py ${{inputs.word}}\n"
    )
    folder = make_zip(
        {"comps/shout.yml": component, "comps/src/shout.py": "print('x')\n", "tools/run.sh": "echo run\n"}
    ).getvalue()
    spec = (
        "type: pipeline\njobs:\n  loud:\n    component: ./comps/shout.yml\n"
        "  tool:\n    type: command\n    code: ./tools\n    environment: azureml:plain:1\n    command: sh run.sh\n"
    )
    client.force_login(owner)
    url = f"/w/{workspace.name}/new/pipeline/"
    answer = client.post(url, {"spec": spec, "code": SimpleUploadedFile("p.zip", folder)})
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    version = ComponentVersion.objects.get(workspace=workspace, component__name="shout")
    assert [f["path"] for f in code_store.list_files(version.code)] == ["shout.py"]
    tool = next(job for job in version.workspace.jobs.all() if job.name.endswith("_tool"))
    assert [f["path"] for f in code_store.list_files(tool.code)] == ["run.sh"]

    escape = spec.replace("./comps/shout.yml", "../../etc/passwd.yml")
    answer = client.post(url, {"spec": escape, "code": SimpleUploadedFile("p.zip", folder)})
    assert answer.status_code == 400 and "leaves its folder" in answer.content.decode()
    missing = spec.replace("./comps/shout.yml", "./comps/nope.yml")
    answer = client.post(url, {"spec": missing, "code": SimpleUploadedFile("p.zip", folder)})
    assert answer.status_code == 400 and "The zip has no component file" in answer.content.decode()
    answer = client.post(url, {"spec": spec})
    assert answer.status_code == 400 and "add the pipeline" in answer.content.decode()


def test_the_periodic_check_advances_a_pipeline_whose_step_end_went_unheard(
    client, workspace, owner, plain_env, no_dispatch
):
    from jobs.models import JobStatus
    from jobs.runner.lifecycle import advance
    from pipelines.services.pipelines import check_pipelines

    body = {"type": "pipeline", "jobs": {"only": {"type": "command", "command": "true", "environment": "plain:1"}}}
    job = job_services.do_submit_job(workspace, actor=owner, data=body)
    step = job.pipeline.steps.get()
    for status in (JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.COMPLETED):
        advance(step.job.pk, (JobStatus.QUEUED, JobStatus.PREPARING, JobStatus.RUNNING), status)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING, "the hook runs on commit, which this test never reaches"
    assert check_pipelines() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.pipeline.steps.get().state == StepState.COMPLETED
    client.force_login(owner)
    answer = client.get(f"/w/{workspace.name}/jobs/{job.name}/")
    assert answer.status_code == 302 and answer["Location"].endswith(f"/pipelines/{job.name}/")


def test_the_jobs_list_offers_a_pipeline_submit_to_those_who_may_submit(client, members, workspace):
    client.force_login(members["contributor"])
    assert f'href="/w/{workspace.name}/new/pipeline/"' in client.get(f"/w/{workspace.name}/jobs/").content.decode()
    client.force_login(members["reader"])
    assert "/new/pipeline/" not in client.get(f"/w/{workspace.name}/jobs/").content.decode()
