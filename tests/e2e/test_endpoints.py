"""In a real browser, against a real deployment: deploy a scikit-learn model from its version page,
add a second deployment, call the endpoint from the Test tab, move the traffic with the sliders,
and read a deployment's log live while a request comes in. Desktop and phone screenshots."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.endpoints.conftest import score_code, serve_env, sklearn_model  # noqa: F401,F811 - fixtures
from tests.endpoints.running import Reconciler

# The conftest's scoring script, plus a line in the log for every request.
SCORE = """
import json, os, pickle

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)
    print("doubler model loaded")

def run(raw_data):
    data = json.loads(raw_data)["data"]
    print(f"scored {len(data)} rows")
    return {"predictions": [round(x, 3) for x in model.predict(data).tolist()]}
"""


def _deploy(page, *, environment: str):
    page.select_option("#id_environment", environment)
    page.set_input_files(
        "#id_code", files=[{"name": "score.py", "mimeType": "text/x-python", "buffer": SCORE.encode()}]
    )
    page.locator("form.deploy-form button[type=submit]").click()


def _send(page, body: str) -> str:
    page.fill("#test-body", body)
    page.click("[data-test-send]")
    expect(page.locator("[data-test-answer]")).to_contain_text("predictions", timeout=30_000)
    return page.locator("[data-test-who]").inner_text()


def test_deploy_from_a_model_page_test_it_move_traffic_and_read_live_logs(
    transactional_db,  # before workspace: the live server's requests must see committed rows
    workspace,
    owner,
    serve_env,  # noqa: F811
    sklearn_model,  # noqa: F811
    page,  # last: the environment is built before the live server starts (a build beside it stalled it)
):
    env_version, _ = serve_env
    environment = f"azureml:{env_version.environment.name}:{env_version.version}"
    sign_in(page, owner.username)
    ws = workspace.name

    with Reconciler():
        # Deploy from the model version's page: the form arrives with the model and a name chosen.
        page.goto(f"/w/{ws}/models/doubler/versions/1/")
        page.get_by_role("link", name="Deploy", exact=True).click()
        expect(page.locator("#id_model")).to_have_value("azureml:doubler:1")
        expect(page.locator("#id_endpoint_name")).to_have_value("doubler-ep")
        expect(page.locator("[data-zip-only]")).to_be_hidden()
        screenshot(page, "endpoints-deploy-form")
        _deploy(page, environment=environment)
        page.wait_for_url(re.compile(r"/endpoints/doubler-ep/deployments/$"))
        expect(page.locator(".flash-success")).to_contain_text("Deploying azureml:doubler:1 as blue")

        # A second deployment from the endpoint's own button: the next colour is suggested.
        page.get_by_role("link", name="Add deployment").first.click()
        expect(page.locator("#id_name")).to_have_value("green")
        expect(page.locator("[data-new-endpoint]")).to_be_hidden()
        _deploy(page, environment=environment)
        page.wait_for_url(re.compile(r"/endpoints/doubler-ep/deployments/$"))

        # The table refreshes itself until both deployments have their instance ready.
        for name in ("blue", "green"):
            expect(page.locator(f"tr[data-deployment={name}] .dep-state")).to_have_text("Healthy", timeout=240_000)
        expect(page.locator("tr[data-deployment=blue]")).to_contain_text("100%")
        screenshot(page, "endpoints-deployments")

        # The Test tab calls the scoring URI with the endpoint's key and shows the answer and its time.
        page.get_by_role("link", name="Test", exact=True).click()
        assert _send(page, '{"data": [[3], [10]]}') == "answered by blue"
        answer = page.locator("[data-test-answer]").inner_text()
        assert json.loads(answer) == {"predictions": [6, 20]}, answer
        expect(page.locator("[data-test-time]")).to_have_text(re.compile(r"^\d+\.\d ms$"))
        expect(page.locator("[data-test-status]")).to_contain_text("200")
        screenshot(page, "endpoints-test")
        page.fill("#test-body", "{not json")
        page.click("[data-test-send]")
        expect(page.locator("[data-test-answer]")).to_contain_text("not JSON")

        # Move all traffic to green with its slider: blue's share follows, the total stays 100.
        page.get_by_role("link", name="Deployments", exact=True).click()
        page.locator("#traffic-green").fill("100")
        expect(page.locator("[data-traffic-number=blue]")).to_have_value("0")
        expect(page.locator("[data-traffic-total]")).to_have_text("Total: 100%")
        page.locator("[data-traffic-number=blue]").fill("30")  # 30 + 70 with two deployments
        expect(page.locator("[data-traffic-number=green]")).to_have_value("70")
        page.locator("#traffic-green").fill("100")
        page.click("[data-traffic-save]")
        expect(page.locator(".flash-success")).to_contain_text("Traffic saved: blue 0%, green 100%")
        page.get_by_role("link", name="Test", exact=True).click()
        assert _send(page, '{"data": [[1]]}') == "answered by green"

        # Green's log, live: the server's start-up and the script's own lines, then a new request's.
        page.get_by_role("link", name="Logs", exact=True).click()
        page.get_by_role("link", name="green", exact=True).click()
        body = page.locator("[data-log-body]")
        expect(body).to_contain_text("doubler model loaded", timeout=20_000)
        expect(page.locator("[data-log-state]")).to_have_text("● Live")
        other = page.context.new_page()
        other.goto(f"/w/{ws}/endpoints/doubler-ep/test/")
        _send(other, '{"data": [[1], [2], [3], [4], [5]]}')
        other.close()
        expect(body).to_contain_text("scored 5 rows", timeout=20_000)
        screenshot(page, "endpoints-logs")

        # The same pages at phone width.
        page.set_viewport_size({"width": 390, "height": 844})
        for tab in ("deployments", "consume", "test", "logs"):
            page.goto(f"/w/{ws}/endpoints/doubler-ep/{tab}/")
            screenshot(page, f"endpoints-{tab}-phone")
        page.goto(f"/w/{ws}/endpoints/")
        screenshot(page, "endpoints-list-phone")
        page.set_viewport_size({"width": 1280, "height": 860})
        page.goto(f"/w/{ws}/endpoints/")
        expect(page.locator(".endpoint-table")).to_contain_text("green 100%")
        screenshot(page, "endpoints-list")
        page.goto(f"/w/{ws}/endpoints/doubler-ep/consume/")
        page.get_by_role("button", name="Show keys").click()
        expect(page.locator("#key-primary")).not_to_be_empty()
        screenshot(page, "endpoints-consume")


def test_back_to_the_deploy_form_hides_the_new_endpoint_fields_for_a_chosen_endpoint(
    transactional_db, workspace, owner, page
):
    from endpoints.services import do_create_endpoint
    from registry import services

    do_create_endpoint(workspace, {"name": "scorer"}, actor=owner)
    sink = services.upload_sink_for(workspace)
    sink.open("model.json").write(b"{}")
    sink.finish()
    services.do_create_model_version_from_upload(workspace, sink, actor=owner, name="tiny", type="custom_model")
    sign_in(page, owner.username)
    page.goto(f"/w/{workspace.name}/endpoints/deploy/")
    page.select_option("#id_endpoint", "scorer")
    page.fill("#id_name", "Bad name!")
    page.locator("form.deploy-form button[type=submit]").click()
    page.wait_for_selector("[data-error-summary]")
    page.go_back()
    page.wait_for_load_state("load")
    assert page.input_value("#id_endpoint") == "scorer"
    # The browser restored the choice without a change event; the fields follow it all the same.
    assert page.locator("[data-new-endpoint]").is_hidden()
