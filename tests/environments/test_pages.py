"""The Environments pages: browse (tabs, search, tag filter), detail, create from the form or a
YAML file, "New version from this one"."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from environments.models import EnvironmentVersion
from tests.environments.helpers import CONDA, create, make_zip

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner, workspace):
    client.force_login(owner)
    return client


def test_the_list_shows_curated_by_default_and_custom_once_there_is_one(owner_client, workspace, owner):
    page = owner_client.get("/w/ws-main/environments/").content.decode()
    assert "Studio-sklearn-1.9" in page and "Curated environments" in page
    create(workspace, owner, {"name": "mine", "image": "studio/base:bookworm", "tags": {"team": "vision"}})
    page = owner_client.get("/w/ws-main/environments/").content.decode()
    assert "mine" in page and "Studio-sklearn-1.9" not in page
    curated = owner_client.get("/w/ws-main/environments/?tab=curated").content.decode()
    assert "Studio-pytorch-2.13-cpu" in curated and ">mine<" not in curated


def test_search_and_tag_filter_answer_htmx_with_the_rows_only(owner_client):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "environment-rows"}
    rows = owner_client.get("/w/ws-main/environments/?tab=curated&q=torch", **headers).content.decode()
    assert "Studio-pytorch-2.13-cpu" in rows and "Studio-data-prep" not in rows and "<html" not in rows
    rows = owner_client.get("/w/ws-main/environments/?tab=curated&tag=Framework=scikit-learn", **headers)
    assert "Studio-sklearn-1.9" in rows.content.decode() and "Studio-data-prep" not in rows.content.decode()
    nothing = owner_client.get("/w/ws-main/environments/?tab=curated&q=zzz", **headers).content.decode()
    assert "No environment matches" in nothing


def test_a_curated_detail_page_shows_the_definition_and_no_archive_button(owner_client):
    page = owner_client.get("/w/ws-main/environments/Studio-sklearn-1.9/").content.decode()
    assert "scikit-learn=1.9" in page and "conda.yml" in page and "azureml:Studio-sklearn-1.9:1" in page
    assert "Archive this version" not in page and "New version from this one" in page
    assert owner_client.get("/w/ws-main/environments/nope/").status_code == 404
    assert owner_client.get("/w/ws-main/environments/Studio-sklearn-1.9/versions/99/").status_code == 404


def test_user_content_is_escaped(owner_client, workspace, owner):
    create(workspace, owner, {"name": "x", "image": "studio/base:bookworm", "description": "<script>alert(1)</script>"})
    page = owner_client.get("/w/ws-main/environments/x/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_form_creates_an_image_and_conda_environment(owner_client):
    form = {
        "name": "from-form",
        "kind": "conda",
        "image": "studio/base:bookworm",
        "conda_file": CONDA,
        "tags": "team=vision",
        "environment_variables": "OMP_NUM_THREADS=2",
    }
    response = owner_client.post("/w/ws-main/environments/new/", form)
    assert response.status_code == 302 and response["Location"] == "/w/ws-main/environments/from-form/versions/1/"
    version = EnvironmentVersion.objects.get(environment__name="from-form")
    assert version.tags == {"team": "vision"} and version.environment_variables == {"OMP_NUM_THREADS": "2"}
    assert version.kind == "conda"


def test_form_errors_land_on_their_fields_and_store_nothing(owner_client):
    response = owner_client.post(
        "/w/ws-main/environments/new/", {"name": "Studio-x", "kind": "conda", "image": "", "conda_file": CONDA}
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "reserved" in form.errors["name"][0]
    assert not EnvironmentVersion.objects.filter(environment__workspace__isnull=False).exists()
    response = owner_client.post(
        "/w/ws-main/environments/new/", {"name": "ok", "kind": "conda", "image": "x", "conda_file": "a: [b"}
    )
    assert "line" in response.context["form"].errors["conda_file"][0]


def test_the_form_takes_a_zipped_build_context_and_refuses_zip_slip(owner_client):
    good = make_zip({"Dockerfile": "FROM studio/base:bookworm\n", "src/app.py": "print(1)\n"})
    response = owner_client.post(
        "/w/ws-main/environments/new/",
        {
            "name": "ctx",
            "kind": "build",
            "context_zip": SimpleUploadedFile("c.zip", good),
            "dockerfile_path": "Dockerfile",
        },
    )
    assert response.status_code == 302
    assert EnvironmentVersion.objects.get(environment__name="ctx").context_files[1][0] == "src/app.py"
    evil = make_zip({"Dockerfile": "FROM x\n", "../../outside": "x"})
    response = owner_client.post(
        "/w/ws-main/environments/new/",
        {"name": "ctx2", "kind": "build", "context_zip": SimpleUploadedFile("c.zip", evil)},
    )
    assert response.status_code == 400 and "leaves it" in response.context["form"].errors["dockerfile"][0]


def test_a_folder_upload_keeps_the_paths_the_browser_sent(owner_client):
    files = [
        SimpleUploadedFile("Dockerfile", b"FROM studio/base:bookworm\nCOPY lib /lib\n"),
        SimpleUploadedFile("util.py", b"x = 1\n"),
    ]
    response = owner_client.post(
        "/w/ws-main/environments/new/",
        {
            "name": "folder",
            "kind": "build",
            "context_folder": files,
            "context_paths": '["myenv/Dockerfile", "myenv/lib/util.py"]',
        },
    )
    assert response.status_code == 302
    assert [f[0] for f in EnvironmentVersion.objects.get(environment__name="folder").context_files] == [
        "Dockerfile",
        "lib/util.py",
    ]


def test_a_yaml_file_creates_an_environment_and_a_bad_one_says_why(owner_client):
    text = b"name: yaml-env\nimage: studio/base:bookworm\npip_requirements: |\n  six\n"
    response = owner_client.post("/w/ws-main/environments/new/", {"spec_file": SimpleUploadedFile("env.yml", text)})
    assert response.status_code == 302
    bad = owner_client.post("/w/ws-main/environments/new/", {"spec_file": io.BytesIO(b"name: y\nimgae: x\n")})
    assert bad.status_code == 400 and "unknown key 'imgae' (line 2)" in bad.context["yaml_error"]


def test_new_version_from_this_one_prefills_the_form(owner_client, workspace, owner):
    create(
        workspace,
        owner,
        {"name": "base", "image": "studio/base:bookworm", "pip_requirements": "six\n", "tags": {"a": "b"}},
    )
    form = owner_client.get("/w/ws-main/environments/new/?from=base:1").context["form"]
    assert (
        form.initial["name"] == "base"
        and form.initial["kind"] == "pip"
        and form.initial["pip_requirements"].strip() == "six"
    )
    curated = owner_client.get("/w/ws-main/environments/new/?from=Studio-sklearn-1.9:1").context["form"]
    assert curated.initial["name"] == "sklearn-1.9" and "scikit-learn=1.9" in curated.initial["conda_file"]


def test_a_new_version_from_a_build_context_reuses_its_files(owner_client, workspace, owner):
    files = {"Dockerfile": b"FROM studio/base:bookworm\n", "data.txt": b"keep me\n"}
    create(workspace, owner, {"name": "ctx", "build": {"path": "."}}, files=files)
    response = owner_client.post(
        "/w/ws-main/environments/new/",
        {"name": "ctx", "kind": "build", "context_from": "ctx:1", "dockerfile": "FROM studio/base:bookworm\nRUN true"},
    )
    assert response.status_code == 302
    second = EnvironmentVersion.objects.get(environment__name="ctx", version="2")
    assert [f[0] for f in second.context_files] == ["Dockerfile", "data.txt"]
    assert "RUN true" in second.dockerfile


def test_the_yaml_download_reads_back_as_the_same_spec(owner_client, workspace, owner):
    from environments import hashing, spec
    from studio import yamlspec

    version = create(workspace, owner, {"name": "rt", "image": "studio/base:bookworm", "conda_file": CONDA})
    text = owner_client.get("/w/ws-main/environments/rt/versions/1/yaml/").content.decode()
    again = spec.parse(yamlspec.load_mapping(text))
    assert hashing.spec_hash(again) == version.spec_hash
