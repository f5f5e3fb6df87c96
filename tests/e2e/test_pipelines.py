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
