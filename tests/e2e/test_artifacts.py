"""In a real browser: a run's MLflow artifacts on the job's Outputs tab (browse a folder, preview
JSON, the Images view), at desktop and phone widths."""

from __future__ import annotations

import struct
import zlib

from playwright.sync_api import expect

from jobs.models import Experiment, Job, JobStatus
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import UserFactory, make_workspace
from tracking.artifacts import store_for_workspace


def _png(width: int = 2, height: int = 2) -> bytes:
    """A real (red) PNG, made here so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_browse_preview_and_see_images_of_a_run(page, transactional_db):
    owner = UserFactory(username="ada")
    workspace = make_workspace(owner, "ws-art")
    experiment = Experiment.objects.create(workspace=workspace, name="art")
    job = Job.objects.create(
        workspace=workspace,
        name="witty_owl_aaaaaa",
        experiment=experiment,
        created_by=owner,
        status=JobStatus.COMPLETED,
        command="python train.py",
        environment_ref="e",
        compute_name="local",
    )
    store = store_for_workspace(workspace)
    for path, data in {
        "meta/classes.json": b'{"classes": [0, 1, 2]}',
        "plots/roc.png": _png(),
        "estimator.html": b"<p>x</p>",
    }.items():
        store.write_stream(f"runs/{job.name}/artifacts/{path}", [data])

    sign_in(page, "ada")
    page.goto(f"/w/ws-art/jobs/{job.name}/outputs/")
    artifacts = page.locator("#run-artifacts")
    expect(artifacts).to_contain_text("meta/")
    artifacts.locator("a:has-text('meta/')").click()
    artifacts.locator("a:has-text('classes.json')").click()
    expect(page.locator("#run-artifacts pre")).to_contain_text('"classes": [')
    page.click("[data-action=artifact-images]")
    expect(page.locator("#run-artifacts img")).to_have_count(1)
    # The image decoded (a page under CSP runs no string-evaluated predicates, so ask the element).
    expect(page.locator("#run-artifacts img")).to_have_js_property("naturalWidth", 2)
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "run-artifacts-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "run-artifacts-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
