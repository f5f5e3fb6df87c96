"""The first hour in a real browser: Back after a filter, live logs and charts that follow without
leaking, single values compared, menus, phone-width tables, and a Reader who sees no control they
cannot use. Screenshots go to test-artifacts/ (1440 and 390 px)."""

from __future__ import annotations

import time

import pytest

from jobs.models import Experiment, Job, JobStatus
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_jobs import _submit_from_form, node  # noqa: F401  (node: runs real jobs in-process)
from tests.jobs.conftest import make_environment
from tracking import services as tracking_services

PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
CHART_STATE = """() => ({
  charts: Object.keys(window.Chart ? Chart.instances : {}).length,
  canvases: document.querySelectorAll('#metric-charts canvas, #compare-charts canvas').length,
  mostPoints: Math.max(0, ...Object.values(window.Chart ? Chart.instances : {}).flatMap(
    c => c.data.datasets.map(d => d.data.length))),
})"""


def make_job(workspace, owner, name, status=JobStatus.COMPLETED, experiment="first-hour"):
    exp, _ = Experiment.objects.get_or_create(workspace=workspace, name=experiment)
    return Job.objects.create(
        workspace=workspace,
        name=name,
        experiment=exp,
        created_by=owner,
        status=status,
        command="python train.py",
        environment_ref="Studio-minimal@latest",
        compute_name="local",
    )


T0 = 1_700_000_000_000


def log(job, key, values, start=0):
    points = [
        {"key": key, "value": v, "step": start + i, "timestamp": T0 + (start + i) * 500} for i, v in enumerate(values)
    ]
    for i in range(0, len(points), 1000):
        tracking_services.do_log_batch(job, points[i : i + 1000], [], [])


def test_live_metrics_update_charts_in_place_and_fetch_only_new_points(page, workspace, owner):
    job = make_job(workspace, owner, "live_run", status=JobStatus.RUNNING)
    log(job, "loss", [1.0 / (i + 1) for i in range(12_000)])
    log(job, "accuracy", [i / 12_000 for i in range(12_000)])
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/metrics/series/" in r.url else None)
    sign_in(page, owner.username)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/w/{workspace.name}/jobs/{job.name}/metrics/")
    page.wait_for_function("() => document.querySelectorAll('#metric-charts canvas').length === 2")
    first = page.evaluate(CHART_STATE)
    assert first["charts"] == 2 and first["mostPoints"] <= 2000  # downsampled on the server
    step = 12_000
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the job logs for ~20 s while the tab polls (every 3 s)
        log(job, "loss", [0.0001] * 20, start=step)
        step += 20
        time.sleep(1)
    page.wait_for_function(
        "last => Object.values(Chart.instances).some(c => c.data.datasets.some(d => d.data.some(p => p.x === last)))",
        arg=step - 1,
    )
    later = page.evaluate(CHART_STATE)
    assert later["charts"] == 2 and later["canvases"] == 2, later
    assert later["mostPoints"] <= 4000
    polls = [u for u in requests if "after=" in u]
    assert len(polls) >= 5 and len(requests) - len(polls) == 1, requests  # one full load, then cursors
    page.select_option("[data-chart-x]", "relative")
    page.fill("[data-chart-smooth]", "0.9")
    page.check("[data-chart-log]")
    assert page.evaluate(CHART_STATE)["charts"] == 2
    screenshot(page, "first-hour-metrics-1440")
    page.select_option("[data-chart-x]", "step")
    page.uncheck("[data-chart-log]")
    box = page.locator("[data-metric=accuracy] canvas").bounding_box()  # drag across a tenth of the chart
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "() => Object.values(Chart.instances).some(c => c.canvas.getAttribute('aria-label') === "
        "'accuracy' && c.scales.x.max - c.scales.x.min < 3000)"
    )
    assert any("key=accuracy" in u for u in requests)  # the zoomed range came in detail
    assert page.evaluate(CHART_STATE)["charts"] == 2
    Job.objects.filter(pk=job.pk).update(status=JobStatus.COMPLETED)
    page.wait_for_selector("#metric-charts[data-final=true]", timeout=15_000)


def test_compare_draws_single_values_as_bars(page, workspace, owner):
    for name, auc in [("run_a", 0.71), ("run_b", 0.93), ("run_c", 0.85)]:
        job = make_job(workspace, owner, name)
        log(job, "auc", [auc])
        log(job, "loss", [1.0 / (i + 1) + auc for i in range(50)])
    sign_in(page, owner.username)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/w/{workspace.name}/experiments/first-hour/compare/?run=run_a&run=run_b&run=run_c")
    page.wait_for_function("() => document.querySelectorAll('#compare-charts canvas').length === 2")
    kinds = page.evaluate(
        "Object.values(Chart.instances).map(c => [c.canvas.getAttribute('aria-label'), c.config.type,"
        " c.data.datasets[0].data.filter(v => v !== null).length])"
    )
    assert sorted(kinds) == [["auc", "bar", 3], ["loss", "line", 50]]
    screenshot(page, "first-hour-compare-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    screenshot(page, "first-hour-compare-390")


def test_environment_build_log_follows_and_its_history_row_goes_live(page, workspace, owner):
    from environments.models import BuildStatus, EnvironmentBuild
    from studio import logs

    version = make_environment(workspace, owner, "followed")
    build = EnvironmentBuild.objects.create(
        version=version, workspace=workspace, backend="venv", spec_hash=version.spec_hash, requested_by=owner
    )
    sign_in(page, owner.username)
    page.goto(f"{version.get_absolute_url()}?build={build.pk}#build")
    row = page.locator(f"#build-row-status-{build.pk}")
    assert row.inner_text().strip() == "Queued"
    EnvironmentBuild.objects.filter(pk=build.pk).update(status=BuildStatus.RUNNING)
    for i in range(120):
        logs.append(build.log_stream, f"Step {i}: installing package number {i}\n")
    row.get_by_text("Running").wait_for()
    box = page.locator(f"#build-log-{build.pk}")
    box.get_by_text("Step 119:").wait_for()
    gap = "b => b.scrollHeight - b.scrollTop - b.clientHeight"
    page.wait_for_function(f"() => ({gap})(document.getElementById('build-log-{build.pk}')) < 40")
    assert box.evaluate("b => b.scrollHeight > b.clientHeight")  # it did grow past the box
    box.evaluate("b => { b.scrollTop = 0; }")  # the reader scrolls up: the box stays there
    logs.append(build.log_stream, "Step 120: more\n")
    box.get_by_text("Step 120:").wait_for()
    assert box.evaluate("b => b.scrollTop") < 5
    screenshot(page, "first-hour-build-log-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    screenshot(page, "first-hour-build-log-390")


@pytest.mark.usefixtures("node")
def test_a_fast_jobs_file_list_refreshes_when_it_ends(page, live_server, workspace, owner, settings):

    settings.STUDIO_PUBLIC_URL = live_server.url
    make_environment(workspace, owner, "plain")
    sign_in(page, owner.username)
    _submit_from_form(page, workspace, "python slow.py 1 && mkdir -p outputs && echo hi > outputs/result.txt", "Fast")
    page.locator("#job-head .status-completed").wait_for(timeout=60_000)
    page.locator("#output-files").get_by_text("result.txt").wait_for(timeout=10_000)
    size = page.locator("#log-files .tree-size").first.inner_text()
    assert size != "0 B", size


def test_log_viewer_numbers_lines_links_to_a_line_and_makes_urls_clickable(page, workspace, owner):
    from studio import logs

    job = make_job(workspace, owner, "long_log")
    stream = job.log_stream("user_logs/std_log.txt")
    lines = [f"epoch {i:05d} " + "x" * 90 for i in range(1, 4001)]  # ~400 KB: opens at the tail
    lines[2] = "see https://example.org/docs?a=1&b=2. and <script>alert(1)</script> javascript:alert(2)"
    logs.append(stream, "\n".join(lines) + "\n")
    sign_in(page, owner.username)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/w/{workspace.name}/jobs/{job.name}/outputs/")
    last = page.locator("#L4000")
    last.wait_for()
    assert last.locator(".lno").inner_text() == "4000"
    page.goto(f"/w/{workspace.name}/jobs/{job.name}/outputs/#L3")  # earlier than the tail: loaded on demand
    target = page.locator("#L3.target")
    target.wait_for()
    link = target.locator("a[href^='https://']")
    assert link.get_attribute("href") == "https://example.org/docs?a=1&b=2"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert target.locator("script").count() == 0 and "<script>alert(1)</script>" in target.inner_text()
    assert target.locator("a[href^='javascript']").count() == 0
    box = page.locator("[data-log-body]").bounding_box()
    spot = target.bounding_box()
    assert box["y"] <= spot["y"] <= box["y"] + box["height"]  # scrolled into view
    page.locator("#L10 .lno").click()
    page.wait_for_function("() => location.hash === '#L10'")
    page.locator("#L10.target").wait_for()
    screenshot(page, "first-hour-log-viewer-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    screenshot(page, "first-hour-log-viewer-390")


# What a control is, for a Reader: anything that would change something (a POST form, a link to a
# create/edit/clone/delete page) or an editable field outside a search/filter form.
CONTROLS = """() => {
  const bad = [];
  const seen = el => el.offsetParent !== null || el.closest('dialog, details');
  document.querySelectorAll('form').forEach(f => {
    const method = (f.getAttribute('method') || 'get').toLowerCase();
    if (method === 'post' && !f.action.endsWith('/logout/')) bad.push('form ' + f.action);
  });
  document.querySelectorAll('main a[href]').forEach(a => {
    if (/\\/(new|edit|delete|rebuild)\\/|[?&]clone=|\\/jobs\\/new\\//.test(a.getAttribute('href')) && seen(a))
      bad.push('link ' + a.textContent.trim() + ' -> ' + a.getAttribute('href'));
  });
  document.querySelectorAll('main input, main textarea, main select').forEach(i => {
    const form = i.form;
    const getForm = form && (form.getAttribute('method') || 'get').toLowerCase() === 'get';
    if (!getForm && !i.closest('#log-viewer, [data-chart-options]') && i.type !== 'hidden' && i.type !== 'search')
      bad.push('field ' + (i.name || i.id || i.type) + (i.disabled ? ' (disabled)' : ''));
  });
  return bad;
}"""


def test_a_reader_sees_no_control_they_cannot_use(page, workspace, owner, members, tmp_path, settings):
    from compute import services as compute_services
    from datastores import services
    from datastores import services as datastore_services

    settings.STUDIO_LOCAL_DATASTORE_ROOTS = [str(tmp_path)]

    version = make_environment(workspace, owner, "readable")
    job = make_job(workspace, owner, "read_me")
    log(job, "loss", [0.5, 0.4])
    folder = tmp_path / workspace.name  # each allowed root holds one folder per workspace
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n")
    datastore_services.do_register_datastore(workspace, actor=owner, name="shared", type="local", path=str(folder))
    services.do_create_data_version(
        workspace, actor=owner, name="table", type="uri_file", path="azureml://datastores/shared/paths/a.csv"
    )
    compute_services.do_create_compute(workspace, data={"name": "cpu-cluster", "type": "cluster"}, actor=owner)
    ws = f"/w/{workspace.name}"
    pages = [
        f"{ws}/",
        f"{ws}/jobs/",
        f"{ws}/jobs/{job.name}/",
        f"{ws}/jobs/{job.name}/outputs/",
        f"{ws}/jobs/{job.name}/metrics/",
        f"{ws}/jobs/{job.name}/code/",
        f"{ws}/jobs/{job.name}/environment/",
        f"{ws}/experiments/",
        f"{ws}/experiments/first-hour/",
        f"{ws}/experiments/first-hour/compare/",
        f"{ws}/environments/",
        f"{ws}/environments/?curated=true",
        version.get_absolute_url(),
        f"{ws}/data/",
        f"{ws}/data/table/",
        f"{ws}/datastores/",
        f"{ws}/datastores/shared/",
        f"{ws}/compute/",
        f"{ws}/compute/?tab=clusters",
        f"{ws}/compute/cpu-cluster/",
        f"{ws}/members/",
        f"{ws}/roles/",
        f"{ws}/activity/",
        f"{ws}/settings/",
    ]
    sign_in(page, members["reader"].username)
    found = {}
    for url in pages:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        if bad := page.evaluate(CONTROLS):
            found[url] = bad
    assert not found, found


def test_tables_fit_a_phone_and_a_long_experiment_name_keeps_the_filter_bar(page, workspace, owner, members):
    long_name = "hyperparameter-search-for-the-gradient-boosted-diabetes-regressor-" + "x" * 60
    for i in range(3):
        make_job(workspace, owner, f"phone_run_{i}", experiment=long_name if i else "short")
    sign_in(page, owner.username)
    ws = f"/w/{workspace.name}"
    page.set_viewport_size({"width": 390, "height": 844})
    wide = {}
    for url, name in [
        (f"{ws}/members/", "members"),
        (f"{ws}/jobs/", "jobs"),
        (f"{ws}/experiments/", "experiments"),
        (f"{ws}/environments/?curated=true", "environments"),
        (f"{ws}/roles/", "roles"),
        (f"{ws}/activity/", "activity"),
        (f"{ws}/compute/", "compute"),
        ("/workspaces/", "workspaces"),
        (f"{ws}/", "home"),
        (f"{ws}/jobs/phone_run_0/", "job"),
        (f"{ws}/jobs/phone_run_0/metrics/", "job-metrics"),
        (f"{ws}/new/job/", "job-form"),
        (f"{ws}/environments/new/", "environment-form"),
        (f"{ws}/roles/new/", "role-form"),
        (f"{ws}/data/", "data"),
        (f"{ws}/datastores/", "datastores"),
        (f"{ws}/settings/", "settings"),
        ("/account/tokens/", "tokens"),
    ]:
        page.goto(url)
        if (extra := page.evaluate(PAGE_OVERFLOW)) > 0:
            wide[url] = extra
        screenshot(page, f"first-hour-{name}-390")
    assert not wide, f"these pages scroll sideways at 390 px (by px): {wide}"
    # the Members role picker is reachable at phone width
    page.goto(f"{ws}/members/")
    picker = page.locator("#member-rows select").first
    box = picker.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{ws}/jobs/")
    bar = page.locator("form.job-filters").bounding_box()
    assert bar["x"] + bar["width"] <= 1440 and page.evaluate(PAGE_OVERFLOW) <= 0
    screenshot(page, "first-hour-jobs-1440")


def test_back_after_a_filter_shows_the_whole_page(page, workspace, owner, members):
    for i, status in enumerate([JobStatus.COMPLETED, JobStatus.FAILED]):
        make_job(workspace, owner, f"back_run_{i}", status=status)
    sign_in(page, owner.username)
    for start, change, row_link in [
        (f"/w/{workspace.name}/jobs/", lambda: page.select_option("select[name=status]", "Failed"), "back_run_1"),
        (f"/w/{workspace.name}/members/", lambda: page.fill("input[name=q]", "reader"), "reader_user"),
    ]:
        page.goto(start)
        change()
        page.wait_for_url("**?*")  # htmx pushed the filtered URL
        page.wait_for_load_state("networkidle")
        page.get_by_role("link", name="Activity").click()  # leave the page…
        page.wait_for_url("**/activity/")
        page.go_back()  # …and come back to the filtered list
        page.locator(".sidenav").wait_for()
        assert page.locator("link[rel=stylesheet]").count() >= 1
        assert row_link in page.locator("main").inner_text()
        page.reload()  # a reload of the filtered URL is the whole page too
        page.locator(".sidenav").wait_for()


def test_top_bar_menus_close_on_escape_and_outside_click_and_open_one_at_a_time(page, workspace, owner):
    from tests.factories import make_workspace

    make_workspace(owner, "ws-second")
    sign_in(page, owner.username)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/w/{workspace.name}/")
    switcher, account = page.locator("details.ws-switch"), page.locator("details.user-menu")
    switcher.locator("summary").click()
    assert switcher.get_attribute("open") is not None
    screenshot(page, "first-hour-switch-workspace-1440")
    assert switcher.get_by_role("link", name="ws-second").is_visible()
    account.locator("summary").click()  # opening one closes the other
    assert account.get_attribute("open") is not None and switcher.get_attribute("open") is None
    page.keyboard.press("Escape")
    assert account.get_attribute("open") is None
    assert page.evaluate("document.activeElement.closest('details.user-menu') !== null")  # focus back on its button
    page.keyboard.press("Enter")  # keyboard: the focused summary opens it again
    assert account.get_attribute("open") is not None
    page.locator("main h1, main h2").first.click()  # a click elsewhere closes it
    assert account.get_attribute("open") is None
    switcher.locator("summary").click()
    switcher.get_by_role("link", name="ws-second").click()
    page.wait_for_url("**/w/ws-second/")


def test_custom_role_form_fills_the_slug_and_shows_view_as_always_included(page, workspace, owner):
    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/roles/new/")
    page.fill("#id_name", "ML Engineér (night shift)")
    assert page.input_value("#id_slug") == "ml_engineer_night_shift"
    view = page.locator("label.fixed input[type=checkbox]")
    assert view.is_checked() and view.is_disabled()
    page.fill("#id_slug", "nights")
    page.fill("#id_name", "ML Engineer")
    assert page.input_value("#id_slug") == "nights"  # the user's own slug stays
    page.click("main button[type=submit]")  # no action ticked: the summary says so and takes the focus
    page.locator("[data-error-summary]").wait_for()
    assert page.evaluate("document.activeElement.name") == "actions"
    page.get_by_label("jobs.submit", exact=False).check()
    page.click("main button[type=submit]")
    page.wait_for_url("**/roles/")
    from studio.models import Role

    assert Role.objects.get(workspace=workspace, slug="nights").action_set == {"workspace.view", "jobs.submit"}


def test_forms_keep_work_after_an_error(page, workspace, owner):
    from tests.jobs.conftest import make_zip

    make_environment(workspace, owner, "plain")
    sign_in(page, owner.username)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/w/{workspace.name}/new/job/")
    page.check("input[name=code_source][value=zip]")
    code = make_zip({"t.py": "print(1)"}).getvalue()
    page.set_input_files("#id_code_zip", files=[{"name": "code.zip", "mimeType": "application/zip", "buffer": code}])
    page.select_option("#id_environment", "plain")
    page.fill("#id_display_name", "Kept work")
    page.click("[data-submit-job]")  # no command: an error
    page.locator("[data-error-summary]").wait_for()
    assert page.evaluate("document.activeElement.id") == "id_command"
    assert page.is_checked("input[name=code_source][value=reuse]")
    assert page.input_value("#id_display_name") == "Kept work"
    screenshot(page, "first-hour-job-form-error-1440")
    page.fill("#id_command", "python t.py")
    page.click("[data-submit-job]")
    page.wait_for_url("**/outputs/")
    assert Job.objects.get(display_name="Kept work").code.file_count == 1

    page.goto(f"/w/{workspace.name}/environments/new/?from=azureml:plain:1")
    page.set_input_files(
        "#id_spec_file", files=[{"name": "env.yml", "mimeType": "text/yaml", "buffer": b"name: y\nimgae: x\n"}]
    )
    page.get_by_role("button", name="Create from YAML").click()
    page.get_by_text("unknown key 'imgae'").wait_for()
    assert page.locator(".env-form .error").count() == 0  # the main form shows no error of its own…
    assert page.input_value(".env-form #id_image")  # …and keeps what it started from
    assert page.locator(".env-form #id_image").is_visible()
    screenshot(page, "first-hour-env-yaml-error-1440")
