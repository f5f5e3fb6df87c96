"""In a real browser: register an Azure Blob datastore (Azurite), upload a CSV into it, create a
uri_file data asset from it and see its preview, use it as a job input, and see a job's output
registered as a new data asset with its lineage. Jobs run for real on an in-process node."""

from __future__ import annotations

import json
import sys

from playwright.sync_api import expect

from datastores.models import Datastore, DataUsage, DataVersion
from jobs.models import Job
from tests.datastores.conftest import azurite_server  # noqa: F401 - a session fixture shared with tests/datastores
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, make_workspace
from tests.jobs.conftest import make_environment, make_zip, node  # noqa: F401 - node: the in-process job runner

CSV = "passenger,age,fare,survived\nAllen,29,211.34,true\nBrown,41,71.28,false\nCole,3,7.5,true\n"

COUNT = (
    "python -c \"import csv, sys; print(len(list(csv.DictReader(open(sys.argv[1])))), 'passengers')\""
    " ${{inputs.passengers}}"
)

SURVIVORS = """\
import csv, pathlib, sys

rows = [row for row in csv.DictReader(open(sys.argv[1])) if row["survived"] == "true"]
with open(pathlib.Path(sys.argv[2]) / "survivors.csv", "w", newline="") as out:
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
print(len(rows), "survivors")
"""

# The job as its author would give it to the CLI: the data asset in, a folder out on the Azure
# datastore, registered as a new data asset.
SURVIVORS_JOB = """\
display_name: Survivors
command: python survivors.py ${{inputs.passengers}} ${{outputs.survivors}}
environment: azureml:local-python@latest
compute: azureml:local
inputs:
  passengers:
    type: uri_file
    path: azureml:titanic:1
    mode: download
outputs:
  survivors:
    type: uri_folder
    path: azureml://datastores/training_blob/paths/survivors/
    name: titanic_survivors
"""


def test_register_azure_blob_upload_a_csv_preview_it_use_it_in_jobs_and_register_an_output(
    page,
    transactional_db,
    azurite_server,  # noqa: F811 - the fixture imported above
    node,  # noqa: F811 - the fixture imported above
    live_server,
    settings,
    tmp_path,
):
    settings.STUDIO_PUBLIC_URL = live_server.url
    owner = UserFactory(username="olivia")
    workspace = make_workspace(owner, "vision")
    # Studio's own interpreter, used as it is: the jobs below install nothing.
    make_environment(workspace, owner, "local-python", user_managed_dependencies=True, interpreter_path=sys.executable)
    container = azurite_server.container()
    csv_file = tmp_path / "titanic.csv"
    csv_file.write_text(CSV)

    sign_in(page, "olivia")
    page.goto("/w/vision/")
    page.get_by_role("link", name="Datastores").first.click()
    expect(page.get_by_role("link", name="workspaceblobstore")).to_be_visible()
    page.get_by_role("link", name="Register datastore").click()
    page.fill("#id_name", "training_blob")
    page.get_by_role("radio", name="Azure Blob container").check()
    page.fill("#id_account_name", azurite_server.account)
    page.fill("#id_container_name", container)
    page.fill("#id_endpoint", azurite_server.endpoint)
    page.select_option("#id_protocol", "http")
    page.get_by_role("radio", name="SAS token").check()
    expect(page.locator("#id_account_key")).to_be_hidden()
    page.fill("#id_sas_token", "sv=2024-01-01&sig=not-a-valid-signature")
    page.get_by_role("button", name="Register datastore").click()
    expect(page.get_by_text("Studio could not list the storage")).to_be_visible()
    assert not Datastore.objects.filter(name="training_blob").exists()

    sas = azurite_server.sas(container)
    page.get_by_role("radio", name="SAS token").check()
    page.fill("#id_sas_token", sas)
    page.get_by_role("button", name="Register datastore").click()
    expect(page.get_by_role("heading", name="training_blob")).to_be_visible()
    expect(page.get_by_text("SAS token (stored encrypted, never shown")).to_be_visible()
    assert sas.split("sig=")[1].split("&")[0] not in page.content()

    page.get_by_role("button", name="Upload").click()
    page.set_input_files("#upload-files", str(csv_file))
    page.locator("#upload-dialog").get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="titanic.csv")).to_be_visible()
    screenshot(page, "datastores-browse")

    page.get_by_role("link", name="Create data asset").click()
    page.fill("#id_name", "titanic")
    expect(page.locator("#id_datastore_path")).to_have_value("titanic.csv")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_text("Data asset titanic:1 created.")).to_be_visible()
    preview = page.locator("#preview")
    expect(preview.get_by_role("columnheader", name="passenger")).to_be_visible()
    expect(preview.get_by_role("cell", name="Brown")).to_be_visible()
    expect(preview.locator(".schema").get_by_text("float64")).to_be_visible()
    screenshot(page, "datastores-data-asset")
    version = DataVersion.objects.get(asset__name="titanic")
    assert version.path == "azureml://datastores/training_blob/paths/titanic.csv"

    # Use it in a job from the form.
    page.goto("/w/vision/new/job/")
    page.check("input[name=code_source][value=none]")
    page.fill("#id_command", COUNT)
    page.select_option("#id_environment", "local-python")
    page.fill("#id_inputs", "passengers=uri_file:azureml:titanic:1")
    page.fill("#id_display_name", "Count passengers")
    page.click("[data-submit-job]")
    page.wait_for_url("**/outputs/")
    page.locator("#job-head .status-completed").wait_for(timeout=60_000)
    expect(page.locator("[data-log-body]").get_by_text("3 passengers", exact=True)).to_be_visible()
    expect(page.locator("#output-files")).to_have_text("No files were written to outputs/.")
    screenshot(page, "datastores-job-input")
    counted = Job.objects.get(display_name="Count passengers")

    # The form has no outputs field, so the job with a registered output is submitted as its YAML
    # and code zip through the API (the CLI's request), with this browser session and its CSRF
    # token; it is then watched in the browser like any other job.
    csrf = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    response = page.request.post(
        "/api/v1/workspaces/vision/jobs/",
        headers={"X-CSRFToken": csrf, "Referer": live_server.url + "/"},
        multipart={
            "spec": SURVIVORS_JOB,
            "code": {
                "name": "code.zip",
                "mimeType": "application/zip",
                "buffer": make_zip({"survivors.py": SURVIVORS}).getvalue(),
            },
        },
    )
    assert response.status == 201, response.text()
    job_name = response.json()["name"]
    page.goto(f"/w/vision/jobs/{job_name}/")
    page.locator("#job-head .status-completed").wait_for(timeout=60_000)
    overview = page.locator("#job-overview")
    expect(overview).to_contain_text("uri_file → azureml:titanic:1 (download)")
    expect(overview).to_contain_text("azureml://datastores/training_blob/paths/survivors/")
    expect(overview.get_by_role("link", name="titanic_survivors:1")).to_be_visible()
    screenshot(page, "datastores-job-output-registered")
    page.get_by_role("link", name="Outputs + logs").click()
    expect(page.locator("[data-log-body]").get_by_text("2 survivors", exact=True)).to_be_visible()
    expect(page.locator("#output-files").get_by_role("link", name="survivors/survivors.csv")).to_be_visible()

    page.get_by_role("link", name="Data", exact=True).first.click()
    row = page.get_by_role("row", name="titanic_survivors")
    expect(row).to_contain_text("1 of 1")
    expect(row).to_contain_text("uri_folder")
    screenshot(page, "datastores-data-list")
    row.get_by_role("link", name="titanic_survivors").click()
    expect(page.get_by_role("heading", name="titanic_survivors")).to_be_visible()
    produced_by = page.locator(".props dd", has=page.get_by_role("link", name=job_name))
    expect(produced_by).to_have_text(f"job {job_name} (output survivors)")
    lineage = page.locator("section", has=page.get_by_role("heading", name="Jobs that used this version"))
    expect(lineage.get_by_role("row", name=job_name)).to_contain_text("Produced it (output survivors)")
    screenshot(page, "datastores-registered-output")
    produced = DataVersion.objects.get(asset__name="titanic_survivors")
    assert produced.path == "azureml://datastores/training_blob/paths/survivors/"
    blob = azurite_server.service().get_blob_client(container, "survivors/survivors.csv").download_blob().readall()
    assert blob.decode().splitlines() == ["passenger,age,fare,survived", "Allen,29,211.34,true", "Cole,3,7.5,true"]

    page.goto("/w/vision/data/titanic/")
    for name in (counted.name, job_name):
        expect(lineage.get_by_role("row", name=name)).to_contain_text("Input passengers")
    screenshot(page, "datastores-input-lineage")
    assert set(DataUsage.objects.filter(version=version).values_list("job_name", flat=True)) == {counted.name, job_name}
