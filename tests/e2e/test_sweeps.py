"""In a real browser: submit a sweep from the form (search space rows), watch its trials appear
live in the table and the charts, read the parallel-coordinates chart, open the best trial."""

from __future__ import annotations

import sys

from jobs.models import Job, JobStatus
from tests.conftest import token_client
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_jobs import node  # noqa: F401 - fixture
from tests.jobs.conftest import make_environment, make_zip, no_dispatch, plain_env  # noqa: F401 - fixtures
from tests.sweeps.conftest import LIGHT_TRIAL
from tests.sweeps.test_ready_ahead import SWEEP


def _fill_form(page, workspace):
    page.goto(f"/w/{workspace.name}/new/sweep/")
    page.check("input[name=code_source][value=zip]")
    page.set_input_files(
        "#id_code_zip",
        files=[
            {"name": "code.zip", "mimeType": "application/zip", "buffer": make_zip({"t.py": LIGHT_TRIAL}).getvalue()}
        ],
    )
    page.fill("#id_command", "python t.py ${{search_space.x}} ${{search_space.y}} 8 0.3")
    page.select_option("#id_environment", "with-mlflow")
    page.fill("#id_display_name", "Tune x and y")
    page.fill("#id_space-0-name", "x")
    page.select_option("#id_space-0-type", "uniform")
    page.fill("#id_space-0-min_value", "0")
    page.fill("#id_space-0-max_value", "1")
    page.fill("#id_space-1-name", "y")
    page.select_option("#id_space-1-type", "choice")
    page.fill("#id_space-1-values", "0, 1, 2")
    page.fill("#id_primary_metric", "score")
    page.select_option("#id_sampling", "random")
    page.fill("#id_seed", "11")
    page.fill("#id_max_total_trials", "5")
    page.fill("#id_max_concurrent_trials", "2")


def test_submit_a_sweep_from_the_form_and_watch_its_trials_live(page, live_server, workspace, owner, node, settings):  # noqa: F811
    settings.STUDIO_PUBLIC_URL = live_server.url
    make_environment(workspace, owner, "with-mlflow", user_managed_dependencies=True, interpreter_path=sys.executable)
    sign_in(page, owner.username)

    _fill_form(page, workspace)
    page.fill("#id_space-0-max_value", "-1")
    page.click("[data-submit-sweep]")
    error = page.locator(".has-error .error").first
    assert "min_value must be below max_value" in error.inner_text(), "the row's own error"
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "sweeps-form-error-phone")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.fill("#id_space-0-max_value", "1")
    page.select_option("#id_space-1-type", "choice")
    page.click("[data-submit-sweep]")
    page.wait_for_url("**/sweeps/*/")
    sweep = Job.objects.get(type="sweep")

    # Trials appear while the sweep runs: in the table (htmx) and in the charts (cursor, in place).
    page.locator(".sweep-trials tbody tr").first.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => Number(document.querySelector('[data-sweep-charts]').dataset.loaded || 0) >= 1", timeout=30_000
    )
    assert Job.objects.get(pk=sweep.pk).status == JobStatus.RUNNING, "the trials arrived while the sweep ran"
    first_chart = page.evaluate("() => window.Chart.getChart('sweep-curves').id")
    screenshot(page, "sweeps-running")
    page.locator("#sweep-body .status-completed").wait_for(timeout=120_000)
    page.wait_for_function(
        "() => window.Chart.getChart('sweep-parallel').data.datasets.length === 5"
        " && window.Chart.getChart('sweep-curves').data.datasets.every(d => d.data.length === 8)",
        timeout=15_000,
    )
    assert page.evaluate("() => window.Chart.getChart('sweep-curves').id") == first_chart, "updated, not re-created"
    curves = page.evaluate("() => window.Chart.getChart('sweep-curves').data.datasets.map(d => d.data.length)")
    assert curves == [8] * 5, curves

    # The parallel-coordinates chart: one axis per hyperparameter, then the metric.
    assert page.locator('[data-chart-empty="sweep-parallel"]').is_hidden(), "no 'nothing logged' once trials have"
    chart = page.locator("#sweep-parallel")
    chart.scroll_into_view_if_needed()
    labels = page.evaluate("() => window.Chart.getChart('sweep-parallel').data.labels.map(l => l[0])")
    assert labels == ["x", "y", "score"]
    screenshot(page, "sweeps-completed")
    assert page.locator("text=Cancel sweep").count() == 0, "nothing to cancel once it ended"
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()  # as a phone opens it
    page.wait_for_function("() => Number(document.querySelector('[data-sweep-charts]').dataset.loaded || 0) === 5")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "sweeps-completed-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    # Sort by the metric (on the server), then open the best trial.
    page.click("th a[data-sort=value]")
    page.click("th a[data-sort=value]")
    page.wait_for_url("**?sort=-value")
    best = Job.objects.get(pk=sweep.pk).sweep.best_trial
    first_row = page.locator(".sweep-trials tbody tr").first
    assert best.job.name in first_row.inner_text()
    page.click(f"[data-best] a:text('{best.job.name}')")
    page.wait_for_url(f"**/jobs/{best.job.name}/**")
    assert best.job.name in page.locator("h1").inner_text() or best.job.name in page.content()


def test_a_search_space_row_is_one_line_of_level_inputs_on_a_desktop(
    page, live_server, transactional_db, workspace, owner
):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/new/sweep/")
    row = page.locator("[data-space-row]").first
    tops = row.locator("input:not([type=hidden]), select").evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    # All eight (name, distribution, values, min, max, upper, mu, sigma, q) side by side at one height:
    # q had a line of its own, and the inputs under a wrapped label sat lower than their neighbours.
    # (a select is drawn 2 px lower than a text box; a wrapped label moved an input down ~20 px)
    assert len(tops) >= 8 and max(tops) - min(tops) <= 4, tops


def test_a_sweep_whose_trials_logged_nothing_yet_says_so_instead_of_drawing_empty_axes(
    page,
    live_server,
    transactional_db,
    workspace,
    owner,
    plain_env,  # noqa: F811
    no_dispatch,  # noqa: F811
):
    spec = {**SWEEP, "name": "quiet", "limits": {"max_total_trials": 3, "max_concurrent_trials": 1}}
    answer = token_client(owner).post(f"/api/v1/workspaces/{workspace.name}/jobs/", spec, format="json")
    assert answer.status_code == 201, answer.content
    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/sweeps/quiet/")
    page.wait_for_function("() => document.querySelector('[data-sweep-charts]').dataset.loaded !== undefined")
    for chart in ("sweep-parallel", "sweep-curves"):
        assert page.locator(f'[data-chart-empty="{chart}"]').is_visible(), chart
        assert page.locator(f"#{chart}").is_hidden(), chart
    assert "No trial has logged acc yet" in page.locator(".sweep-charts").inner_text()
