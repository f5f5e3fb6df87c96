"""Search across a workspace's assets: every kind found by name, names that start with the query
first, only the current workspace (never another's assets, even a same-named one), the dropdown
fragment and the results page from one URL."""

from __future__ import annotations

import pytest

from compute.models import Backend, ComputeTarget, ComputeType
from datastores.services import do_create_data_version
from jobs import services
from registry.models import Model
from tests.factories import make_workspace
from tests.jobs.conftest import make_environment, no_dispatch  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("no_dispatch")


def _assets(workspace, owner, prefix="churn"):
    make_environment(workspace, owner, f"{prefix}-env")
    services.do_submit_job(
        workspace,
        actor=owner,
        data={"command": "echo", "environment": f"{prefix}-env:1", "display_name": f"{prefix} baseline"},
    )
    ComputeTarget.objects.create(
        workspace=workspace, name=f"{prefix}-cpu", type=ComputeType.DOCKER, backend=Backend.DOCKER
    )
    Model.objects.create(workspace=workspace, name=f"{prefix}-model")
    do_create_data_version(
        workspace, actor=owner, name=f"{prefix}-data", path="azureml://datastores/workspaceblobstore/paths/"
    )


def test_search_finds_every_kind_in_the_workspace_and_nothing_from_another(client, workspace, owner, outsider):
    _assets(workspace, owner)
    other = make_workspace(outsider, "ws-secret")
    _assets(other, outsider, prefix="churnsecret")
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/search/?q=CHURN").content.decode()
    for label, name in [
        ("Jobs", "churn baseline"),
        ("Experiments", None),
        ("Environments", "churn-env"),
        ("Data", "churn-data"),
        ("Models", "churn-model"),
        ("Compute", "churn-cpu"),
    ]:
        assert f">{label}<" in page or label == "Experiments", label
        if name:
            assert name in page, name
    assert "churnsecret" not in page
    assert "workspaceblobstore" in client.get(f"/w/{workspace.name}/search/?q=blob").content.decode()
    assert client.get(f"/w/{other.name}/search/?q=churn").status_code == 404


def test_dropdown_is_a_fragment_with_prefix_matches_first_and_a_link_to_all(client, workspace, owner):
    make_environment(workspace, owner, "my-training")
    make_environment(workspace, owner, "training-gpu")
    client.force_login(owner)
    response = client.get(
        f"/w/{workspace.name}/search/?q=training", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-dropdown"
    )
    text = response.content.decode()
    assert "<html" not in text and "All results for" in text
    assert text.index("training-gpu") < text.index("my-training")
    nothing = client.get(f"/w/{workspace.name}/search/?q=zzz", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-dropdown")
    assert "Nothing in ws-main matches" in nothing.content.decode()


def test_reader_finds_assets_and_user_text_is_escaped(client, workspace, owner, members):
    make_environment(workspace, owner, "plain")
    data = {"command": "echo", "environment": "plain:1", "display_name": "<script>x</script>"}
    services.do_submit_job(workspace, actor=owner, data=data)
    client.force_login(members["reader"])
    text = client.get(f"/w/{workspace.name}/search/?q=script").content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in text and "<script>x</script>" not in text
