"""The model pages: list (search, tags, aliases), model page (versions, lineage: job, metrics,
params, data, where used), version page (MLmodel rendered, files with preview, zip), the register
page (one click from a job), actions, and who sees what."""

from __future__ import annotations

import io
import zipfile

from jobs.models import Param
from registry import services
from registry.models import ModelVersion
from tracking import services as tracking_services


def _register(workspace, owner, job, name="iris", **kwargs):
    return services.do_create_model_version(
        workspace, actor=owner, name=name, path=f"runs:/{job.name}/outputs/model", **kwargs
    )


def test_the_list_shows_latest_versions_aliases_and_filters(client, workspace, owner, trained_job):
    _register(workspace, owner, trained_job, tags={"team": "vision"})
    v2 = _register(workspace, owner, trained_job)
    services.do_set_alias(v2, "champion", actor=owner)
    _register(workspace, owner, trained_job, name="zebra-net", tags={"team": "nlp"})
    client.force_login(owner)
    page = client.get(f"/w/{workspace.name}/models/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "iris" in html and "@champion → 2" in html and "of 2" in html
    assert 'href="/w/ws-main/models/"' in html  # the left navigation entry
    assert "zebra-net" not in client.get(f"/w/{workspace.name}/models/?q=iri").content.decode()
    tagged = client.get(f"/w/{workspace.name}/models/?tag=team=nlp").content.decode()
    assert "zebra-net" in tagged and ">iris<" not in tagged


def test_the_model_page_shows_lineage(client, workspace, owner, trained_job):
    tracking_services.do_log_metrics(trained_job, [tracking_services.MetricIn("accuracy", 0.9731, 1, 1)])
    Param.objects.create(job=trained_job, key="n_estimators", value="200")
    version = _register(workspace, owner, trained_job)
    services.record_usage(version, "scoring-job-1", port="model")
    client.force_login(owner)
    html = client.get(f"/w/{workspace.name}/models/iris/").content.decode()
    assert f'href="/w/ws-main/jobs/{trained_job.name}/"' in html
    assert "accuracy" in html and "0.9731" in html
    assert "n_estimators" in html and "200" in html
    assert "scoring-job-1" in html and "(input <code>model</code>)" in html
    assert "azureml:iris:1" in html


def test_the_version_page_renders_the_mlmodel_and_files(client, workspace, owner, trained_job):
    _register(workspace, owner, trained_job)
    client.force_login(owner)
    html = client.get(f"/w/{workspace.name}/models/iris/versions/1/").content.decode()
    for text in ("sklearn", "python_function", "pickled_model", "sepal length (cm)", "tensor(int64, [-1])"):
        assert text in html, text
    assert "<th>petal width (cm)</th>" in html and "<td>6.2</td>" in html  # the input example as a table
    assert "scikit-learn==1.5.1" in html  # requirements
    assert "model.pkl" in html and "Download all (zip)" in html
    latest = client.get(f"/w/{workspace.name}/models/iris/versions/latest/")
    assert latest.status_code == 200

    preview = client.get(f"/w/{workspace.name}/models/iris/versions/1/preview/", {"path": "MLmodel"})
    assert preview.status_code == 200 and "loader_module: mlflow.sklearn" in preview.content.decode()
    binary = client.get(f"/w/{workspace.name}/models/iris/versions/1/preview/", {"path": "model.pkl"})
    assert "No preview" in binary.content.decode()
    for evil in ("../../../etc/passwd", "/etc/passwd", "missing.txt"):
        assert client.get(f"/w/{workspace.name}/models/iris/versions/1/preview/", {"path": evil}).status_code == 404
        assert client.get(f"/w/{workspace.name}/models/iris/versions/1/file/", {"path": evil}).status_code in (400, 404)

    one = client.get(f"/w/{workspace.name}/models/iris/versions/1/file/", {"path": "requirements.txt"})
    assert b"".join(one.streaming_content).startswith(b"mlflow==")
    archive = client.get(f"/w/{workspace.name}/models/iris/versions/1/download/")
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as z:
        assert "MLmodel" in z.namelist() and len(z.namelist()) == 6


def test_register_from_a_job_in_one_click(client, workspace, owner, trained_job):
    client.force_login(owner)
    job_page = client.get(f"/w/{workspace.name}/jobs/{trained_job.name}/").content.decode()
    link = f"/w/ws-main/models/new/?job={trained_job.name}&amp;path=outputs/model"
    assert link in job_page
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert f'value="{trained_job.name}-model"' in form and 'value="outputs/model"' in form
    assert "outputs/model" in form
    response = client.post(
        f"/w/{workspace.name}/models/new/",
        {"name": f"{trained_job.name}-model", "source": "job", "job": trained_job.name, "job_path": "outputs/model"},
    )
    version = ModelVersion.objects.get()
    assert response.status_code == 302 and response["Location"] == version.get_absolute_url()
    assert version.job == trained_job and version.type == "mlflow_model"


def test_register_errors_land_on_their_fields(client, workspace, owner, trained_job):
    client.force_login(owner)
    url = f"/w/{workspace.name}/models/new/"
    missing = client.post(url, {"name": "m", "source": "job", "job": trained_job.name, "job_path": "outputs/nothing"})
    assert missing.status_code == 400 and "does not exist" in missing.content.decode()
    bad_uri = client.post(url, {"name": "m", "source": "uri", "uri": "ftp://x/y"})
    assert bad_uri.status_code == 400 and "is not a model path Studio knows" in bad_uri.content.decode()
    no_files = client.post(url, {"name": "m", "source": "upload"})
    assert no_files.status_code == 400 and "Choose the model" in no_files.content.decode()
    _register(workspace, owner, trained_job, name="m", version="1")
    clash = client.post(url, {"name": "m", "version": "1", "source": "job", "job": trained_job.name})
    assert clash.status_code == 400 and "m:1 already exists" in clash.content.decode()
    assert ModelVersion.objects.count() == 1


def test_a_folder_upload_from_the_page(client, workspace, owner, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    response = client.post(
        f"/w/{workspace.name}/models/new/",
        {"name": "net", "source": "upload", "type": "custom_model", "file": [SimpleUploadedFile("w.bin", b"123")]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert services.resolve(workspace, "net:1").file_count == 1


def test_aliases_stage_and_archive_from_the_version_page(client, workspace, owner, trained_job):
    version = _register(workspace, owner, trained_job)
    client.force_login(owner)
    url = f"/w/{workspace.name}/models/iris/versions/1/action/"
    client.post(url, {"do": "alias", "alias": "champion"})
    client.post(url, {"do": "stage", "stage": "Production"})
    version.refresh_from_db()
    assert version.stage == "Production" and list(version.aliases.values_list("alias", flat=True)) == ["champion"]
    bad = client.post(url, {"do": "alias", "alias": "latest"}, follow=True)
    assert "reserved" in bad.content.decode()
    client.post(url, {"do": "edit", "description": "the <b>best</b>", "tags": "team=vision"})
    client.post(f"/w/{workspace.name}/models/iris/edit/", {"description": "Iris models", "tags": "domain=botany"})
    version.refresh_from_db()
    assert (version.description, version.tags) == ("the <b>best</b>", {"team": "vision"})
    assert (version.model.description, version.model.tags) == ("Iris models", {"domain": "botany"})
    assert "the &lt;b&gt;best&lt;/b&gt;" in client.get(version.get_absolute_url()).content.decode()
    client.post(url, {"do": "archive"})
    version.refresh_from_db()
    assert version.archived
    client.post(url, {"do": "restore"})
    client.post(url, {"do": "unalias", "alias": "champion"})
    version.refresh_from_db()
    assert not version.archived and not version.aliases.exists()


def test_readers_see_no_write_controls_and_outsiders_get_404(client, workspace, owner, members, outsider, trained_job):
    _register(workspace, owner, trained_job)
    client.force_login(members["reader"])
    for url in ("/w/ws-main/models/", "/w/ws-main/models/iris/", "/w/ws-main/models/iris/versions/1/"):
        html = client.get(url).content.decode()
        assert "Register model" not in html and "Archive" not in html and "Set alias" not in html, url
    assert "Register model" not in client.get(f"/w/ws-main/jobs/{trained_job.name}/").content.decode()
    assert client.get("/w/ws-main/models/new/").status_code == 403
    assert client.post("/w/ws-main/models/iris/versions/1/action/", {"do": "archive"}).status_code == 403
    assert client.post("/w/ws-main/models/new/", {"name": "x", "source": "uri", "uri": "runs:/a/b"}).status_code == 403
    client.force_login(outsider)
    for url in (
        "/w/ws-main/models/",
        "/w/ws-main/models/iris/",
        "/w/ws-main/models/iris/versions/1/",
        "/w/ws-main/models/new/",
    ):
        assert client.get(url).status_code == 404, url


def test_a_model_without_versions_is_listed_and_has_a_page(client, workspace, owner, members):
    services.do_create_model(workspace, actor=owner, name="empty", description="made by MLflow", tags={"a": "b"})
    client.force_login(members["reader"])
    assert "no versions yet" in client.get(f"/w/{workspace.name}/models/").content.decode()
    page = client.get(f"/w/{workspace.name}/models/empty/")
    assert page.status_code == 200 and "No versions yet" in page.content.decode()
    assert client.post(f"/w/{workspace.name}/models/empty/edit/", {"description": "x"}).status_code == 403


def test_images_preview_inline_in_a_sandbox_and_other_files_download(client, workspace, owner, tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    services.do_create_model_version_from_upload(
        workspace,
        _sink(workspace, {"plots/roc.png": png, "page.html": b"<script>alert(1)</script>", "notes.txt": b"hi"}),
        actor=owner,
        name="plots",
    )
    client.force_login(owner)
    base = f"/w/{workspace.name}/models/plots/versions/1/"
    preview = client.get(base + "preview/", {"path": "plots/roc.png"}).content.decode()
    assert "<img" in preview and "inline=1" in preview
    image = client.get(base + "file/", {"path": "plots/roc.png", "inline": "1"})
    assert image["Content-Disposition"] == "inline" and "sandbox" in image["Content-Security-Policy"]
    html = client.get(base + "file/", {"path": "page.html", "inline": "1"})
    assert html["Content-Disposition"].startswith("attachment") and html["X-Content-Type-Options"] == "nosniff"
    shown = client.get(base + "preview/", {"path": "page.html"}).content.decode()
    assert "<script>alert" not in shown


def _sink(workspace, files: dict[str, bytes]):
    sink = services.upload_sink_for(workspace)
    for rel, content in files.items():
        sink.open(rel).write(content)
        sink.finish()
    return sink
