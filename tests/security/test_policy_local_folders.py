"""Local-folder datastores are confined per workspace: `<root>/<workspace>/…` of each allowed root
(or an administrator's shared root), resolved through symlinks and `..`, checked at registration
and at every access (issue #11: a folder registered in one workspace read another's files)."""

import os
from pathlib import Path

import pytest

from datastores import services
from datastores.models import Datastore
from tests.conftest import token_client


@pytest.fixture
def roots(settings, tmp_path):
    settings.STUDIO_DATASTORES_ROOT = tmp_path / "builtin"
    settings.STUDIO_LOCAL_DATASTORE_ROOTS = [str(tmp_path / "nfs")]
    settings.STUDIO_SHARED_DATASTORE_ROOTS = []
    settings.STUDIO_BUILTIN_STORE = ""
    victim = tmp_path / "nfs" / "ws-main" / "private"
    victim.mkdir(parents=True)
    (victim / "secret.csv").write_text("id,salary\n1,100000\n")
    (tmp_path / "nfs" / "ws-other").mkdir()
    return tmp_path


def register(user, workspace_name, path, name="grab"):
    return token_client(user).post(
        f"/api/v1/workspaces/{workspace_name}/datastores/",
        {"name": name, "type": "local", "path": str(path)},
        format="json",
    )


def test_a_workspace_cannot_register_another_workspaces_folder(roots, outsider):
    response = register(outsider, "ws-other", roots / "nfs" / "ws-main" / "private")

    assert response.status_code == 400
    assert "ws-other" in response.json()["errors"]["path"][0]
    assert not Datastore.objects.filter(name="grab").exists()


def test_a_workspace_cannot_register_the_whole_root_or_dotdot_its_way_out(roots, outsider):
    (roots / "nfs" / "ws-other" / "mine").mkdir()
    for path in (roots / "nfs", f"{roots}/nfs/ws-other/mine/../../ws-main/private"):
        assert register(outsider, "ws-other", path).status_code == 400, path


def test_a_symlink_into_another_workspace_is_refused_at_registration(roots, outsider):
    link = roots / "nfs" / "ws-other" / "link"
    os.symlink(roots / "nfs" / "ws-main" / "private", link)

    assert register(outsider, "ws-other", link).status_code == 400


def test_a_symlink_swapped_in_after_registration_is_refused_at_access(roots, outsider):
    mine = roots / "nfs" / "ws-other" / "mine"
    mine.mkdir()
    assert register(outsider, "ws-other", mine).status_code == 201
    mine.rmdir()
    os.symlink(roots / "nfs" / "ws-main" / "private", mine)

    browse = token_client(outsider).get("/api/v1/workspaces/ws-other/datastores/grab/browse/?path=")

    assert browse.status_code == 400
    assert "secret.csv" not in browse.content.decode()
    download = token_client(outsider).get("/api/v1/workspaces/ws-other/datastores/grab/files/?path=secret.csv")
    assert download.status_code == 400 and b"100000" not in download.content


def test_the_datastore_page_says_so_instead_of_failing(roots, outsider, client):
    mine = roots / "nfs" / "ws-other" / "mine"
    mine.mkdir()
    assert register(outsider, "ws-other", mine).status_code == 201
    mine.rmdir()
    os.symlink(roots / "nfs" / "ws-main" / "private", mine)
    client.force_login(outsider)

    page = client.get("/w/ws-other/datastores/grab/")

    assert page.status_code in (200, 400)
    assert b"secret.csv" not in page.content and b"must be inside" in page.content


def test_no_workspace_reaches_studios_own_folders_even_from_a_shared_root(roots, settings, outsider, workspace):
    settings.STUDIO_SHARED_DATASTORE_ROOTS = [str(Path(settings.DATA_DIR).parent), str(roots)]
    builtin = Path(settings.STUDIO_DATASTORES_ROOT)
    (builtin / "x").mkdir(parents=True)
    for path, words in (
        (settings.DATA_DIR, "Studio's own data"),
        (builtin / "x", "built-in datastores"),
        (settings.STUDIO_JOBS_DIR, ""),
        (Path(settings.DATA_DIR).parent, "Studio's own data"),
    ):
        Path(path).mkdir(parents=True, exist_ok=True)
        response = register(outsider, "ws-other", path)
        assert response.status_code == 400, path
        assert words in response.json()["errors"]["path"][0]


def test_a_shared_root_is_open_to_every_workspace(roots, settings, outsider, owner, workspace):
    shared = roots / "team-share"
    shared.mkdir()
    settings.STUDIO_SHARED_DATASTORE_ROOTS = [str(shared)]

    assert register(outsider, "ws-other", shared, name="team").status_code == 201
    assert services.do_register_datastore(workspace, actor=owner, name="team", type="local", path=str(shared))


def test_the_own_area_works(roots, workspace, owner):
    ds = services.do_register_datastore(
        workspace, actor=owner, name="mine", type="local", path=str(roots / "nfs" / "ws-main" / "private")
    )
    listing = token_client(owner).get(f"/api/v1/workspaces/{workspace.name}/datastores/{ds.name}/browse/?path=")

    assert listing.status_code == 200 and "secret.csv" in listing.content.decode()
