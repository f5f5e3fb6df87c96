"""Creating environments through the API: JSON, YAML and multipart bodies, and every kind of
bad input answered with a clear 400 (or 409) and nothing stored."""

from __future__ import annotations

import pytest

from environments.models import Environment, EnvironmentVersion
from studio.models import ActivityEvent
from tests.conftest import token_client
from tests.environments.helpers import CONDA, make_zip

pytestmark = pytest.mark.django_db

URL = "/api/v1/workspaces/ws-main/environments/"


@pytest.fixture
def api(owner, workspace):
    return token_client(owner)


def versions_url(name: str) -> str:
    return f"{URL}{name}/versions/"


def stored() -> int:
    return EnvironmentVersion.objects.filter(environment__workspace__isnull=False).count()


def test_json_body_creates_version_1_then_2_and_records_activity(api, workspace):
    body = {"name": "env-a", "image": "studio/base:bookworm", "conda_file": CONDA, "tags": {"team": "vision"}}
    first = api.post(URL, body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["version"] == "1" and first.json()["reference"] == "azureml:env-a:1"
    second = api.post(versions_url("env-a"), body | {"description": "again"}, format="json")
    assert second.status_code == 201 and second.json()["version"] == "2"
    assert first.json()["spec_hash"] == second.json()["spec_hash"]
    verbs = list(
        ActivityEvent.objects.filter(workspace=workspace, verb__startswith="environment.").values_list(
            "verb", flat=True
        )
    )
    assert sorted(verbs) == ["environment.created", "environment.version_created"]


def test_a_given_version_is_kept_and_cannot_be_created_twice(api):
    body = {"name": "env-a", "version": "2024.01", "image": "studio/base:bookworm"}
    assert api.post(URL, body, format="json").status_code == 201
    again = api.post(URL, body, format="json")
    assert again.status_code == 409
    assert "cannot be changed" in again.json()["detail"]
    auto = api.post(URL, body | {"version": None}, format="json")
    assert auto.json()["version"] == "1"


def test_a_yaml_body_in_the_cli_schema_is_accepted_with_notices_for_ignored_keys(api):
    text = (
        "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
        "name: from-yaml\nimage: studio/base:bookworm\n"
        "conda_file:\n  dependencies:\n    - python=3.11\n    - pytorch\n"
        "inference_config:\n  liveness_route: {port: 5001, path: /}\n"
    )
    response = api.post(URL, text, content_type="application/yaml")
    assert response.status_code == 201, response.json()
    notices = " ".join(response.json()["notices"])
    assert "'inference_config' (line 8) is accepted but ignored" in notices
    assert "pytorch is called torch on PyPI" in notices


def test_multipart_with_a_zipped_build_context(api):
    archive = make_zip({"myenv/Dockerfile": "FROM studio/base:bookworm\nCOPY a.txt /a.txt\n", "myenv/a.txt": "a"})
    response = api.post(
        URL,
        {"spec": "name: ctx\nbuild:\n  path: ./myenv\n", "context": _file(archive)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "build"
    assert [f["path"] for f in body["build"]["files"]] == ["Dockerfile", "a.txt"]


def _file(data: bytes, name: str = "context.zip"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/zip")


BAD_JSON = [
    ({"name": "Studio-mine", "image": "studio/base:bookworm"}, "name", "reserved for curated"),
    ({"name": "studio-mine", "image": "studio/base:bookworm"}, "name", "reserved for curated"),
    ({"name": "env-a", "conda_file": CONDA}, "image", "needs an image"),
    ({"name": "env-a"}, "image", "Give an image"),
    ({"name": "env-a", "image": "x", "colour": "blue"}, "spec", "unknown key 'colour'"),
    ({"name": "env-a", "image": "x", "conda_file": "dependencies: [numpy\n"}, "conda_file", "line"),
    ({"name": "env-a", "image": "x", "conda_file": "dependencies:\n  - numpy\nfoo: 1\n"}, "conda_file", "line 3"),
    ({"name": "env-a", "image": "x", "pip_requirements": "numpy>>1\n"}, "pip_requirements", "not a valid requirement"),
    ({"name": "env-a", "image": "x", "pip_requirements": "-r other.txt\n"}, "pip_requirements", "points at a file"),
    ({"name": "env-a", "build": {"path": "./ctx"}}, "build", "upload it"),
    ({"name": "env-a", "build": {"dockerfile": ""}}, "build", "upload it"),
    ({"name": "env-a", "image": "x", "os_type": "windows"}, "os_type", "Linux"),
    ({"name": "env-a", "image": "x", "user_managed_dependencies": True}, "interpreter_path", "absolute path"),
    ({"name": "env-a", "image": "x", "environment_variables": {"1BAD": "x"}}, "environment_variables", "not a valid"),
    ({"name": "../etc", "image": "x"}, "name", "letters, digits"),
    ({"name": "env-a", "version": "1/2", "image": "x"}, "version", "A version is"),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_JSON)
def test_bad_input_is_a_clear_400_and_nothing_is_stored(api, body, field, words):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert stored() == 0 and not Environment.objects.filter(workspace__isnull=False).exists()


def test_malformed_yaml_names_its_line(api):
    response = api.post(URL, "name: a\nimage: x\ntags: [unclosed\n", content_type="application/yaml")
    assert response.status_code == 400
    assert "line 4" in response.json()["detail"] or "line 3" in response.json()["detail"]
    assert stored() == 0


def test_unknown_yaml_keys_are_named_with_their_line(api):
    response = api.post(URL, "name: a\nimage: x\ncondafile: env.yml\n", content_type="application/yaml")
    assert response.status_code == 400
    assert "'condafile' (line 3)" in response.json()["detail"]


ZIPS = [
    (make_zip({}), "empty"),
    (make_zip({"app.py": "print(1)"}), "has no Dockerfile"),
    (make_zip({"Dockerfile": "FROM x", "../evil.sh": "rm -rf /"}), "leaves it"),
    (make_zip({"Dockerfile": "FROM x", "a/../../evil.sh": "x"}), "leaves it"),
    (make_zip({"Dockerfile": "FROM x", "/etc/cron.d/evil": "x"}), "absolute path"),
    (make_zip({"Dockerfile": "FROM x"}, symlink="link"), "symbolic link"),
    (b"not a zip at all", "not a zip"),
]


@pytest.mark.parametrize(("archive", "words"), ZIPS)
def test_bad_build_contexts_are_refused_and_nothing_is_stored(api, archive, words):
    response = api.post(URL, {"spec": "name: ctx\nbuild: {path: .}\n", "context": _file(archive)}, format="multipart")
    assert response.status_code == 400, response.json()
    assert words in " ".join(response.json()["errors"]["build"])
    assert stored() == 0
