"""In a real browser: a finished job's model registered from the job page in one click, then the
version page (signature table, files with preview) and the model page (lineage), at desktop and
phone widths."""

from __future__ import annotations

from playwright.sync_api import expect

from jobs import services as job_services
from jobs.models import JobStatus
from jobs.runner.lifecycle import advance
from registry.models import ModelVersion
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, make_workspace
from tests.jobs.conftest import make_environment, no_dispatch  # noqa: F401 - submitted jobs stay queued
from tests.registry.conftest import finish_job, write_mlflow_model
from tests.registry.test_logged_models import log_model_as_the_job_does
from tracking import services as tracking_services


def test_register_a_job_model_and_read_its_signature_and_lineage(page, transactional_db, no_dispatch, tmp_path):  # noqa: F811
    owner = UserFactory(username="mona")
    workspace = make_workspace(owner, "ws-models")
    make_environment(workspace, owner, "plain")
    job = job_services.do_submit_job(
        workspace,
        actor=owner,
        data={
            "command": "python train.py",
            "environment": "plain:1",
            "experiment_name": "iris",
            "display_name": "Train iris",
        },
    )
    write_mlflow_model(tmp_path / "out" / "model", run_id=job.name)
    job = finish_job(job, tmp_path / "out")
    tracking_services.do_log_metrics(job, [tracking_services.MetricIn("accuracy", 0.9731, 1, 1)])

    sign_in(page, "mona")
    page.goto(f"/w/ws-models/jobs/{job.name}/")
    page.click("[data-action=register-model]")
    expect(page.locator("#id_job")).to_have_value(job.name)
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "models-register-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "models-register-1440")
    page.fill("#id_name", "iris-classifier")
    page.fill("#id_tags", "team=vision")
    page.click("button:has-text('Register')")
    page.wait_for_url("**/models/iris-classifier/versions/1/")
    assert ModelVersion.objects.get().job_id == job.pk

    signature = page.locator("#mlmodel table.sig").first
    expect(signature).to_contain_text("sepal length (cm)")
    expect(page.locator("#mlmodel")).to_contain_text("tensor(int64, [-1])")
    page.click("#files a:has-text('MLmodel')")
    expect(page.locator("#file-preview")).to_contain_text("loader_module: mlflow.sklearn")
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "models-version-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "models-version-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392

    page.goto("/w/ws-models/models/iris-classifier/")
    expect(page.locator("body")).to_contain_text("accuracy")
    expect(page.locator("body")).to_contain_text("Train iris")
    screenshot(page, "models-model-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "models-model-1440")
    page.goto("/w/ws-models/models/")
    expect(page.locator("table")).to_contain_text("iris-classifier")
    screenshot(page, "models-list-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "models-list-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392


def test_register_a_runs_logged_model_from_the_outputs_tab(page, transactional_db, no_dispatch, tmp_path):  # noqa: F811
    owner = UserFactory(username="lena")
    workspace = make_workspace(owner, "ws-logged")
    make_environment(workspace, owner, "plain")
    job = job_services.do_submit_job(
        workspace, actor=owner, data={"command": "python train.py", "environment": "plain:1", "experiment_name": "iris"}
    )
    advance(job.pk, JobStatus.QUEUED, JobStatus.PREPARING, node="n")
    advance(job.pk, JobStatus.PREPARING, JobStatus.RUNNING)
    job.refresh_from_db()
    model_id = log_model_as_the_job_does(job, tmp_path)  # what mlflow.autolog() sends with the job's token
    job = finish_job(job)

    sign_in(page, "lena")
    page.goto(f"/w/ws-logged/jobs/{job.name}/outputs/")
    expect(page.locator("[data-action=register-model]")).to_have_count(0)
    button = page.locator(f"[data-logged-model={model_id}] [data-action=register-logged-model]")
    expect(button).to_be_visible()
    screenshot(page, "models-logged-outputs-1440")
    button.click()
    expect(page.locator("#id_uri")).to_have_value(f"models:/{model_id}")
    expect(page.locator("#id_type")).to_have_value("mlflow_model")
    page.click("button:has-text('Register')")
    page.wait_for_url(f"**/models/{job.name}-model/versions/1/")
    version = ModelVersion.objects.get()
    assert version.job_id == job.pk and version.type == "mlflow_model"
    expect(page.locator("#mlmodel table.sig").first).to_contain_text("sepal length (cm)")
