"""The Outputs box of the job form: `name=type[:datastore URI] [-> asset[:version]]` per line gives
the same `outputs` as a job YAML, bad lines are named and keep what was typed, Clone fills it in,
and a run from the form registers its output as a data asset."""

from __future__ import annotations

import sys

from jobs import services
from jobs.models import Job, JobStatus
from tests.conftest import token_client
from tests.jobs.conftest import make_environment, wait_status

OUTPUTS_YAML = """
command: python -c pass ${{outputs.model}} ${{outputs.report}} ${{outputs.scores}}
environment: azureml:plain@latest
compute: azureml:local
display_name: From the API
outputs:
  model:
    type: uri_folder
    name: my_model
  report:
    type: uri_folder
    path: azureml://datastores/workspaceblobstore/paths/models/run1/
  scores:
    type: uri_file
    path: azureml://datastores/workspaceblobstore/paths/scores/
    name: my_scores
    version: "3"
"""

OUTPUTS_TEXT = (
    "model=uri_folder -> my_model\n"
    "report=uri_folder:azureml://datastores/workspaceblobstore/paths/models/run1/\n"
    "# a comment, then a blank line\n"
    "\n"
    "scores = uri_file:azureml://datastores/workspaceblobstore/paths/scores/ -> my_scores:3\n"
)


def _form(workspace, **fields) -> tuple[str, dict]:
    data = {
        "code_source": "none",
        "command": "python -c pass ${{outputs.model}} ${{outputs.report}} ${{outputs.scores}}",
        "environment": "plain",
        "environment_version": "latest",
        "compute": "local",
        "experiment": "Default",
        "display_name": "From the form",
        "outputs": OUTPUTS_TEXT,
    }
    return f"/w/{workspace.name}/new/job/", data | fields


def test_form_outputs_are_stored_as_the_api_stores_the_same_yaml(client, no_dispatch, workspace, members, plain_env):
    scientist = members["contributor"]  # writing outside its own folder needs datastores.write
    client.force_login(scientist)
    response = client.post(*_form(workspace))
    assert response.status_code == 302, response.content.decode()[:3000]
    from_form = Job.objects.get(display_name="From the form")

    api = token_client(scientist)
    answer = api.post(f"/api/v1/workspaces/{workspace.name}/jobs/", {"spec": OUTPUTS_YAML}, format="multipart")
    assert answer.status_code == 201, answer.content
    from_api = Job.objects.get(display_name="From the API")

    assert from_form.outputs == from_api.outputs
    assert from_form.outputs == {
        "model": {"type": "uri_folder", "mode": "rw_mount", "name": "my_model"},
        "report": {
            "type": "uri_folder",
            "mode": "rw_mount",
            "path": "azureml://datastores/workspaceblobstore/paths/models/run1/",
        },
        "scores": {
            "type": "uri_file",
            "mode": "rw_mount",
            "path": "azureml://datastores/workspaceblobstore/paths/scores/",
            "name": "my_scores",
            "version": "3",
        },
    }
    assert from_form.source == "form" and from_form.created_by == scientist


def test_bad_output_lines_are_named_and_what_was_typed_is_kept(client, no_dispatch, workspace, members, plain_env):
    client.force_login(members["data_scientist"])
    typed = (
        "model=uri_folder -> my_model\n"
        "data=tabular\n"
        "2fast=uri_folder\n"
        "report=uri_folder:/tmp/somewhere\n"
        "scores=uri_file -> my scores\n"
        "old=uri_folder -> my_model:latest\n"
        "justaname"
    )
    response = client.post(*_form(workspace, command="python -c pass ${{outputs.model}}", outputs=typed))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Line 2: &#x27;tabular&#x27; is not an output type: use uri_folder, uri_file, mlflow_model" in body
    assert "Line 3: &#x27;2fast&#x27; is not a valid output name" in body
    assert "Line 4: &#x27;/tmp/somewhere&#x27; is not a datastore URI" in body
    assert "Line 5: &#x27;my scores&#x27; is not a data asset name" in body
    assert "Line 6: &#x27;latest&#x27; is a label, not a version" in body
    assert "Line 7: write name=type, e.g. model=uri_folder." in body
    assert "Line 1" not in body
    assert "data=tabular\n2fast=uri_folder\nreport=uri_folder:/tmp/somewhere" in body, "the text is kept"
    assert "python -c pass ${{outputs.model}}" in body and "From the form" in body
    assert not Job.objects.exists()


def test_an_output_the_command_does_not_get_is_reported_on_the_command(
    client, no_dispatch, workspace, members, plain_env
):
    client.force_login(members["data_scientist"])
    response = client.post(*_form(workspace, command="python -c pass ${{outputs.other}}", outputs="model=uri_folder"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "no output &#x27;other&#x27;" in body and "model=uri_folder</textarea>" in body


def test_clone_fills_in_what_was_asked_for_not_what_the_run_registered(
    client, no_dispatch, workspace, members, plain_env
):
    scientist = members["contributor"]
    job = services.do_submit_job(
        workspace,
        actor=scientist,
        data={
            "command": "python -c pass ${{outputs.model}} ${{outputs.scores}}",
            "environment": "plain@latest",
            "outputs": {
                "model": {"type": "uri_folder", "name": "my_model"},
                "scores": {
                    "type": "uri_file",
                    "path": "azureml://datastores/workspaceblobstore/paths/scores/",
                    "name": "my_scores",
                    "version": "3",
                },
            },
        },
    )
    # What a finished run adds: where the output went and the asset version it became.
    Job.objects.filter(pk=job.pk).update(
        outputs={
            **job.outputs,
            "model": {
                **job.outputs["model"],
                "uri": f"azureml://datastores/workspaceblobstore/paths/azureml/{job.name}/model/",
                "asset": "my_model:1",
            },
        }
    )
    client.force_login(scientist)
    page = client.get(f"/w/{workspace.name}/new/job/", {"clone": job.name})
    assert page.status_code == 200
    assert page.context["form"]["outputs"].value() == (
        "model=uri_folder -> my_model\n"
        "scores=uri_file:azureml://datastores/workspaceblobstore/paths/scores/ -> my_scores:3"
    )
    assert "model=uri_folder -&gt; my_model\nscores=uri_file:azureml:" in page.content.decode()
    again = client.post(
        *_form(workspace, command=job.command, display_name="Clone", outputs=page.context["form"]["outputs"].value())
    )
    assert again.status_code == 302, again.content.decode()[:3000]
    assert Job.objects.get(display_name="Clone").outputs == job.outputs, "the text reads back as it was"


def test_a_job_from_the_form_registers_its_output_as_a_data_asset(client, node, workspace, owner, members):
    from datastores.models import DataVersion

    make_environment(workspace, owner, "here", user_managed_dependencies=True, interpreter_path=sys.executable)
    client.force_login(members["data_scientist"])
    url, data = _form(
        workspace,
        command="mkdir -p ${{outputs.model}} && echo trained > ${{outputs.model}}/m.txt",
        environment="here",
        outputs="model=uri_folder -> my_model",
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    job = wait_status(Job.objects.get(display_name="From the form"), (JobStatus.COMPLETED, JobStatus.FAILED))
    assert job.status == JobStatus.COMPLETED, job.failure_reason
    version = DataVersion.objects.get(asset__workspace=workspace, asset__name="my_model")
    assert version.reference == "my_model:1" and version.type == "uri_folder"
    assert job.outputs["model"]["asset"] == "my_model:1"
    assert job.outputs["model"]["uri"] == f"azureml://datastores/workspaceblobstore/paths/azureml/{job.name}/model/"


def test_the_api_refuses_a_bad_output_destination_before_anything_runs(workspace, members):
    from jobs.models import Job
    from tests.conftest import token_client

    spec = {
        "command": "echo hi > ${{outputs.model}}/x",
        "environment": "azureml:Studio-minimal-py311@latest",
        "compute": "azureml:local",
        "outputs": {"model": {"type": "uri_folder", "path": "s3://elsewhere/bucket/", "name": "bad name!"}},
    }
    response = token_client(members["data_scientist"]).post("/api/v1/workspaces/ws-main/jobs/", spec, format="json")
    assert response.status_code == 400
    assert "outputs.model" in response.json()["errors"]
    assert not Job.objects.exists()
