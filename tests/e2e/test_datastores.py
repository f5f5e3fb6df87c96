"""In a real browser: register an Azure Blob datastore (Azurite), upload a CSV into it, create a
uri_file data asset from it and see its preview. (Using it in a job and seeing the job's output
registered joins this flow once the jobs pages exist.)"""

from __future__ import annotations

from playwright.sync_api import expect

from datastores.models import Datastore, DataVersion
from tests.datastores.conftest import azurite_server  # noqa: F401 - a session fixture shared with tests/datastores
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, make_workspace

CSV = "passenger,age,fare,survived\nAllen,29,211.34,true\nBrown,41,71.28,false\nCole,3,7.5,true\n"


def test_register_azure_blob_upload_a_csv_and_preview_it_as_a_data_asset(
    page,
    transactional_db,
    azurite_server,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    owner = UserFactory(username="olivia")
    make_workspace(owner, "vision")
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
