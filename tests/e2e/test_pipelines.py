"""In a real browser: submit a pipeline, watch its graph change colour live, open a step's log
from the graph, and see the reuse explanation on the second run."""

from __future__ import annotations

import pytest

from jobs.models import Job, JobStatus, JobType
from tests.e2e.conftest import screenshot, sign_in
from tests.jobs.conftest import Node, make_environment, wait_status

PIPELINE = """\
type: pipeline
display_name: browser pipeline
jobs:
  make:
    type: command
    environment: azureml:plain:1
    command: sleep 2 && echo hello-from-make > ${{outputs.o}}/x.txt && echo made
    outputs:
      o: {type: uri_folder}
  show:
    type: command
    environment: azureml:plain:1
    command: cat ${{inputs.i}}/x.txt
    inputs:
      i: ${{parent.jobs.make.outputs.o}}
"""


@pytest.fixture
def node(monkeypatch):
    the_node = Node()
    monkeypatch.setattr("jobs.services.submit.send_run", the_node.send)
    yield the_node
    the_node.join(30)


def _state(page, step: str) -> str:
    return page.evaluate("(s) => window.studioPipelineGraph.getElementById(s).data('state')", step)


def _colour(page, step: str) -> str:
    return page.evaluate("(s) => window.studioPipelineGraph.getElementById(s).style('background-color')", step)


def _submit(page, workspace) -> None:
    page.goto(f"/w/{workspace.name}/new/pipeline/")
    page.fill("#id_spec", PIPELINE)
    page.click("form.form button[type=submit]")
    page.wait_for_url(lambda url: "/pipelines/" in url and "/new/" not in url)
    page.wait_for_selector("#pipeline-graph[data-ready=true]")


def test_submit_watch_the_graph_open_a_log_and_see_reuse(page, live_server, transactional_db, node, owner, workspace):
    make_environment(workspace, owner, "plain")
    page.goto("/login/", timeout=60_000)  # the live server's first answer can be slow on a busy machine
    sign_in(page, owner.username)
    _submit(page, workspace)
    waiting = _colour(page, "show")
    page.wait_for_function("() => window.studioPipelineGraph.getElementById('make').data('state') === 'running'")
    running = _colour(page, "make")
    page.wait_for_function(
        "() => window.studioPipelineGraph.getElementById('show').data('state') === 'completed'", timeout=60_000
    )
    done = _colour(page, "show")
    assert len({waiting, running, done}) == 3, "each state has its own colour"
    job = Job.objects.get(type=JobType.PIPELINE)
    assert wait_status(job, JobStatus.COMPLETED, timeout=10)

    box = page.locator("#pipeline-graph").bounding_box()
    at = page.evaluate("() => window.studioPipelineGraph.getElementById('show').renderedPosition()")
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    page.wait_for_selector("#step-panel [data-step-log]:has-text('hello-from-make')")
    screenshot(page, "pipeline-desktop")

    _submit(page, workspace)
    page.wait_for_function("() => window.studioPipelineGraph.getElementById('show').data('state') === 'reused'")
    explanation = page.locator("tr[data-step=show] [data-explanation]").inner_text()
    assert explanation.startswith("reused from ") and "same inputs" in explanation
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.documentElement.scrollWidth <= 390")  # the graph shrinks with the page
    screenshot(page, "pipeline-phone")


def test_the_pipeline_form_reads_top_down_on_a_phone_and_says_what_was_wrong(
    page, live_server, transactional_db, owner, workspace
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/jobs/")
    page.click("text=Submit pipeline")
    page.wait_for_url(lambda url: url.endswith(f"/w/{workspace.name}/new/pipeline/"))
    label, spec = page.locator("label[for=id_spec]").bounding_box(), page.locator("#id_spec").bounding_box()
    form = page.locator("form.card").bounding_box()
    # The label sits above its box, and the box takes the form's width (it was beside it, 200 px wide).
    assert label["y"] + label["height"] <= spec["y"]
    assert spec["width"] > form["width"] * 0.8
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.fill("#id_spec", "type: pipeline\njobs:\n  a:\n    component: azureml:nope@latest\n")
    page.click("button:has-text('Submit pipeline')")
    alert = page.locator("[role=alert]")
    assert "Unknown component 'nope'" in alert.inner_text()
    assert alert.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    screenshot(page, "pipeline-form-390")
