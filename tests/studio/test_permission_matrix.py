"""Every built-in role × every action, through a page and through the API.

The expected table is written out here on purpose (not derived from the code under test). Every
action has a probe on a page and one on the API; a new action adds both.
"""

import pytest

from studio.permissions import ACTIONS, can
from tests.conftest import ROLES, token_client
from tests.factories import UserFactory

ALL = set(ACTIONS)
EXPECTED = {
    "owner": ALL,
    "contributor": ALL - {"members.manage", "workspace.delete"},
    "reader": {"workspace.view"},
    "data_scientist": {
        "workspace.view",
        "environments.write",
        "jobs.submit",
        "jobs.cancel",
        "data.write",
        "models.write",
        "endpoints.write",
    },
    "compute_operator": {"workspace.view", "compute.manage"},
}


def _newcomer():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username="newcomer").first() or UserFactory(username="newcomer")


def _local_folder(ws: str) -> str:
    """A folder the administrator allows for the workspace's local datastores."""
    import os

    from django.conf import settings

    folder = os.path.join(settings.STUDIO_LOCAL_DATASTORE_ROOTS[0], ws, "probe")
    os.makedirs(folder, exist_ok=True)
    return folder


def _page_add_member(client, ws):
    _newcomer()
    return client.post(f"/w/{ws}/members/", {"username": "newcomer", "role": "reader"})


def _upload_file(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"weights")


PAGE_PROBES = {
    "endpoints.write": lambda c, ws: c.post(f"/w/{ws}/endpoints/new/", {"name": "probe-ep", "auth_mode": "key"}),
    "workspace.view": lambda c, ws: c.get(f"/w/{ws}/"),
    "jobs.cancel": lambda c, ws: c.post(f"/w/{ws}/jobs/{_job(ws).name}/cancel/"),
    "jobs.delete": lambda c, ws: c.post(f"/w/{ws}/jobs/{_job(ws, 'Completed').name}/delete/"),
    "environments.write": lambda c, ws: c.post(
        f"/w/{ws}/environments/new/", {"name": "probe", "kind": "image", "image": "studio/base:bookworm"}
    ),
    "workspace.manage": lambda c, ws: c.post(f"/w/{ws}/settings/", {"description": "changed", "tags": "a=b"}),
    "workspace.delete": lambda c, ws: c.post(f"/w/{ws}/delete/", {"confirm": ws}),
    "members.manage": _page_add_member,
    "jobs.submit": lambda c, ws: c.post(
        f"/w/{ws}/new/job/",
        {
            "code_source": "none",
            "command": "echo hi",
            "environment": "Studio-minimal-py311",
            "environment_version": "latest",
            "compute": "local",
            "experiment": "__new__",
            "new_experiment": "probe",
        },
    ),
    "compute.manage": lambda c, ws: c.post(
        f"/w/{ws}/compute/new/yaml/", {"yaml_text": "name: probe-cluster\ntype: amlcompute\nmax_instances: 2\n"}
    ),
    "datastores.write": lambda c, ws: c.post(
        f"/w/{ws}/datastores/new/", {"name": "probe_store", "type": "local", "path": _local_folder(ws)}
    ),
    "data.write": lambda c, ws: c.post(
        f"/w/{ws}/data/new/",
        {"mode": "yaml", "yaml": "name: probe\ntype: uri_file\npath: https://example.com/probe.csv\n"},
    ),
    "models.write": lambda c, ws: c.post(
        f"/w/{ws}/models/new/", {"name": "probe", "source": "upload", "file": _upload_file("weights.bin")}
    ),
}


def _api_add_member(client, ws):
    _newcomer()
    return client.post(f"/api/v1/workspaces/{ws}/members/", {"username": "newcomer", "role": "reader"}, format="json")


def _zip_upload(client, ws):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("main.py", "print('hi')\n")
    buf.seek(0)
    buf.name = "code.zip"
    return client.post(f"/api/v1/workspaces/{ws}/codes/", {"file": buf}, format="multipart")


def _model_upload(client, ws):
    import io

    buf = io.BytesIO(b"weights")
    buf.name = "weights.bin"
    return client.post(f"/api/v1/workspaces/{ws}/models/", {"name": "probe", "file": buf}, format="multipart")


def _job(ws, status="Queued"):
    from jobs.models import Experiment, Job
    from studio.models import Workspace

    workspace = Workspace.objects.get(name=ws)
    experiment, _ = Experiment.objects.get_or_create(workspace=workspace, name="probe")
    job, _ = Job.objects.update_or_create(
        workspace=workspace,
        name=f"probe_{status.lower()}",
        defaults=dict(
            experiment=experiment,
            status=status,
            command="true",
            environment_ref="Studio-minimal-py311@latest",
            compute_name="local",
        ),
    )
    return job


API_PROBES = {
    "jobs.submit": _zip_upload,
    "jobs.cancel": lambda c, ws: c.post(f"/api/v1/workspaces/{ws}/jobs/{_job(ws).name}/cancel/"),
    "jobs.delete": lambda c, ws: c.delete(f"/api/v1/workspaces/{ws}/jobs/{_job(ws, 'Completed').name}/"),
    "compute.manage": lambda c, ws: c.post(
        f"/api/v1/workspaces/{ws}/computes/",
        {"name": "probe-cluster", "type": "amlcompute", "size": "Standard_DS3_v2", "max_instances": 2},
        format="json",
    ),
    "data.write": lambda c, ws: c.post(
        f"/api/v1/workspaces/{ws}/data/",
        {"name": "probe", "type": "uri_file", "path": "https://example.com/probe.csv"},
        format="json",
    ),
    "models.write": _model_upload,
    "endpoints.write": lambda c, ws: c.post(
        f"/api/v1/workspaces/{ws}/online-endpoints/", {"name": "probe-ep", "auth_mode": "key"}, format="json"
    ),
    "workspace.view": lambda c, ws: c.get(f"/api/v1/workspaces/{ws}/"),
    "environments.write": lambda c, ws: c.post(
        f"/api/v1/workspaces/{ws}/environments/", {"name": "probe", "image": "studio/base:bookworm"}, format="json"
    ),
    "workspace.manage": lambda c, ws: c.patch(f"/api/v1/workspaces/{ws}/", {"description": "changed"}, format="json"),
    "workspace.delete": lambda c, ws: c.delete(f"/api/v1/workspaces/{ws}/"),
    "members.manage": _api_add_member,
    "datastores.write": lambda c, ws: c.post(
        f"/api/v1/workspaces/{ws}/datastores/",
        {"name": "probe_store", "type": "local", "path": _local_folder(ws)},
        format="json",
    ),
}


def test_the_table_covers_every_action_and_role():
    assert set(EXPECTED) == set(ROLES)
    assert all(expected <= ALL for expected in EXPECTED.values())


# Actions with no page yet (none today). Add one here only while its page is still to come.
API_ONLY: set[str] = set()


def test_every_action_is_probed_on_a_page_and_on_the_api():
    assert set(PAGE_PROBES) == ALL - API_ONLY
    assert set(API_PROBES) == ALL


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_can_matches_the_table(role, action, workspace, members):
    assert can(members[role], workspace, action) == (action in EXPECTED[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(PAGE_PROBES))
def test_pages_allow_exactly_the_table(role, action, workspace, members, client):
    client.force_login(members[role])
    response = PAGE_PROBES[action](client, workspace.name)
    if action in EXPECTED[role]:
        # a page read renders; a change succeeds and redirects (a re-rendered form would be a 200)
        assert response.status_code == (200 if action == "workspace.view" else 302), response.content[:500]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(API_PROBES))
def test_api_allows_exactly_the_table(role, action, workspace, members):
    response = API_PROBES[action](token_client(members[role]), workspace.name)
    if action in EXPECTED[role]:
        assert 200 <= response.status_code < 300, response.content[:500]
    else:
        assert response.status_code == 403
        assert "does not allow" in response.json()["detail"]


@pytest.mark.parametrize("action", sorted(set(PAGE_PROBES) | set(API_PROBES)))
def test_outsiders_get_404_not_403(action, workspace, members, outsider, client):
    client.force_login(outsider)
    if action in PAGE_PROBES:
        assert PAGE_PROBES[action](client, workspace.name).status_code == 404
    if action in API_PROBES:
        assert API_PROBES[action](token_client(outsider), workspace.name).status_code == 404


def test_a_custom_role_grants_exactly_its_ticked_actions(workspace, owner, members):
    from studio import services
    from tests.factories import add_member

    services.do_create_role(workspace, slug="people_lead", name="People lead", actions=["members.manage"], actor=owner)
    lead = UserFactory(username="lead")
    add_member(workspace, lead, "people_lead", actor=owner)
    assert can(lead, workspace, "members.manage")
    assert can(lead, workspace, "workspace.view"), "viewing is always included"
    assert not can(lead, workspace, "workspace.manage")
    api = token_client(lead)
    assert _api_add_member(api, workspace.name).status_code == 201
    assert API_PROBES["workspace.manage"](api, workspace.name).status_code == 403


# Machine-wide things are the Studio administrator's: no workspace role reaches them.
MACHINE_PROBES = {
    "drain the shared local worker": lambda c, ws, node: c.post(
        f"/api/v1/workspaces/{ws}/computes/local/nodes/{node.worker_name}/drain/"
    ),
    "change the shared local worker's limits": lambda c, ws, node: c.patch(
        f"/api/v1/workspaces/{ws}/computes/local/", {"cpu_cores": 64}, format="json"
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("probe", sorted(MACHINE_PROBES))
def test_no_workspace_role_reaches_machine_wide_things(role, probe, workspace, members):
    from compute.services import do_register_node

    node = do_register_node(queue="compute.local", worker_name="local@m", hostname="m", pid=1, capacity=2, report={})
    response = MACHINE_PROBES[probe](token_client(members[role]), workspace.name, node)
    assert response.status_code == 403
