"""Pipelines attacked through the browser submit page (YAML + folder zip) and the API: paths out
of the zip, symlinks, another workspace's component, readers and outsiders. Fast: every attack is
refused before anything runs."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import Job
from tests.conftest import token_client
from tests.jobs.conftest import make_environment, no_dispatch  # noqa: F401 - fixtures

PAGE = "/w/ws-main/new/pipeline/"

PIPELINE = """type: pipeline
jobs:
  train:
    component: {component}
"""


def zip_of(files: dict[str, bytes], links: dict[str, str] | None = None) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return SimpleUploadedFile("folder.zip", buffer.getvalue(), content_type="application/zip")


def submit(client, component: str, code=None):
    data = {"spec": PIPELINE.format(component=component)}
    if code is not None:
        data["code"] = code
    return client.post(PAGE, data)


COMPONENT = b"""type: command
name: train
command: cat secret
environment: azureml:plain:1
code: {code}
"""


@pytest.mark.django_db
def test_component_files_and_code_folders_stay_inside_the_zip(client, owner, workspace, no_dispatch):  # noqa: F811
    client.force_login(owner)
    attempts = [
        ("../../etc/passwd.yml", zip_of({"a.yml": b"x: 1"})),
        ("/etc/hosts.yml", zip_of({"a.yml": b"x: 1"})),
        ("./sub/../../outside.yml", zip_of({"sub/a.yml": b"x: 1"})),
        ("./train.yml", zip_of({"train.yml": COMPONENT.replace(b"{code}", b"../../..")})),
        ("./train.yml", zip_of({"train.yml": COMPONENT.replace(b"{code}", b"/etc")})),
        ("./link.yml", zip_of({"a.yml": b"x: 1"}, links={"link.yml": "/etc/hostname"})),
        ("./evil/../../x.yml", zip_of({"../x.yml": b"x: 1"})),
        ("./train.yml", None),  # a component file and no zip
        ("./train.yml", SimpleUploadedFile("folder.zip", b"not a zip at all")),
    ]
    for component, code in attempts:
        answer = submit(client, component, code)
        assert answer.status_code == 400, (component, answer.status_code)
        assert answer.context["errors"], component
    assert not Job.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db
def test_bad_pipeline_yaml_is_a_400_with_a_message(client, owner, workspace, no_dispatch):  # noqa: F811
    client.force_login(owner)
    for text in ("", "- a list", "type: pipeline\njobs: 5", "type: command\ncommand: x", "a: [unclosed", "\x00"):
        answer = client.post(PAGE, {"spec": text})
        assert answer.status_code == 400 and answer.context["errors"], (text, answer.status_code)
    big = SimpleUploadedFile("p.yml", b"type: pipeline\n" + b"#" * (2 * 1024 * 1024))
    assert client.post(PAGE, {"spec_file": big}).status_code == 400
    api = token_client(owner)
    for body in (b"not json", b"[]", b"{}", b'{"type": "pipeline", "jobs": []}'):
        answer = api.generic("POST", "/api/v1/workspaces/ws-main/jobs/", body, content_type="application/json")
        assert answer.status_code == 400, (body, answer.status_code, answer.content)
    assert not Job.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db
def test_another_workspaces_component_is_not_found(client, owner, outsider, workspace, no_dispatch):  # noqa: F811
    from pipelines.services import components
    from studio.models import Workspace

    other = Workspace.objects.get(name="ws-other")
    spec = {"name": "theirs", "type": "command", "command": "echo", "environment": "azureml:plain:1", "version": "1"}
    make_environment(other, outsider, "plain")
    components.do_create_component_version(other, actor=outsider, data=spec)
    client.force_login(owner)
    for ref in (
        "azureml:theirs:1",
        "azureml:theirs@latest",
        "azureml://registries/ws-other/components/theirs/versions/1",
    ):
        answer = submit(client, ref)
        assert answer.status_code == 400, (ref, answer.status_code)
    api = token_client(owner)
    assert api.get("/api/v1/workspaces/ws-other/components/").status_code == 404
    assert api.get("/api/v1/workspaces/ws-other/components/theirs/").status_code == 404
    assert not Job.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db
def test_readers_and_outsiders_cannot_submit_or_rerun(client, members, outsider, workspace, no_dispatch):  # noqa: F811
    client.force_login(members["reader"])
    assert submit(client, "./train.yml", zip_of({"train.yml": b"x: 1"})).status_code == 403
    assert client.post("/w/ws-main/pipelines/any/steps/train/rerun/").status_code == 403
    api = token_client(members["reader"])
    answer = api.post("/api/v1/workspaces/ws-main/components/", {"name": "c"}, format="json")
    assert answer.status_code == 403
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 404
    assert client.post("/w/ws-main/pipelines/any/steps/train/rerun/").status_code == 404
    assert not Job.objects.filter(workspace=workspace).exists()
