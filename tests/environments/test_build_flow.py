"""Starting builds from the API and the pages: the queued build, the Celery task that runs it,
the live log partial (htmx, offset cursor, 286 when final), cache hits and rebuilds."""

from __future__ import annotations

import pytest

from compute.backends import get_backend
from environments import tasks
from environments.models import BuildStatus, EnvironmentBuild
from studio.models import ActivityEvent
from tests.conftest import require, token_client
from tests.environments.helpers import create

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/workspaces/ws-main/environments/plain/versions/1/build/"


@pytest.fixture
def version(workspace, owner):
    ok, why = get_backend("venv").available()
    require(ok, f"uv ({why})")
    # No packages: the venv build is a real `uv venv`, fast enough for many tests.
    return create(workspace, owner, {"name": "plain", "image": "studio/base:bookworm"})


def test_the_api_queues_a_build_runs_it_and_then_answers_from_the_cache(version, owner, workspace):
    api = token_client(owner)
    assert api.get(URL).status_code == 404  # nothing built yet
    started = api.post(URL, {"backend": "venv"}, format="json")
    assert started.status_code == 202, started.json()
    build_id = started.json()["id"]
    assert started.json()["status"] == "Queued" and started.json()["result"] == "queued"
    again = api.post(URL, {"backend": "venv"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == build_id and again.json()["result"] == "running"

    assert tasks.build_environment(build_id) == "succeeded"  # what the Celery worker runs
    assert tasks.build_environment(build_id) == "not queued"  # a redelivered message does nothing

    status = api.get(URL, {"backend": "venv"}).json()
    assert status["status"] == "Succeeded" and status["final"] and "Succeeded" in status["log"]
    assert status["python"].endswith("/bin/python")
    tail = api.get(URL, {"offset": status["next_offset"]}).json()
    assert tail["log"] == "" and tail["next_offset"] == status["next_offset"]

    cached = api.post(URL, {"backend": "venv"}, format="json")
    assert cached.status_code == 200 and cached.json()["result"] == "cached" and cached.json()["id"] == build_id

    rebuild = api.post(URL, {"backend": "venv", "rebuild": True}, format="json")
    assert rebuild.status_code == 202 and rebuild.json()["id"] != build_id
    assert "rebuild requested" in rebuild.json()["reason"]
    tasks.build_environment(rebuild.json()["id"])
    assert EnvironmentBuild.objects.filter(version=version, status=BuildStatus.SUCCEEDED).count() == 2

    verbs = ActivityEvent.objects.filter(workspace=workspace, verb__startswith="environment.build")
    assert verbs.count() == 2
    assert ActivityEvent.objects.filter(workspace=workspace, verb="environment.built").count() == 2


def test_a_version_with_the_same_spec_is_a_cache_hit_at_once(version, owner, workspace):
    api = token_client(owner)
    build_id = api.post(URL, {"backend": "venv"}, format="json").json()["id"]
    tasks.build_environment(build_id)
    create(workspace, owner, {"name": "plain", "image": "studio/base:bookworm", "description": "v2, same spec"})
    hit = api.post(URL.replace("/1/", "/2/"), {"backend": "venv"}, format="json")
    assert hit.status_code == 200 and hit.json()["result"] == "cached"
    assert hit.json()["cache_hit"] and hit.json()["source"] == build_id
    assert hit.json()["reason"] == f"cache hit: same spec as plain:1 (build #{build_id})"


def test_the_log_partial_appends_from_the_offset_and_stops_polling_when_final(version, owner, client):
    client.force_login(owner)
    response = client.post("/w/ws-main/environments/plain/versions/1/build/", {"backend": "venv"})
    build = EnvironmentBuild.objects.get(version=version)
    assert response.status_code == 302 and response["Location"].endswith(f"?build={build.pk}#build")
    page = client.get(response["Location"]).content.decode()
    assert 'id="build-log-poller"' in page and "every 500ms" in page

    htmx = {"HTTP_HX_REQUEST": "true"}
    log_url = f"/w/ws-main/environments/plain/builds/{build.pk}/log/"
    waiting = client.get(log_url, {"offset": 0}, **htmx)
    assert waiting.status_code == 200 and 'id="build-log-poller"' in waiting.content.decode()

    tasks.build_environment(build.pk)
    final = client.get(log_url, {"offset": 0}, **htmx)
    body = final.content.decode()
    assert final.status_code == 286 and final["HX-Refresh"] == "true"
    assert f'hx-swap-oob="beforeend:#build-log-{build.pk}"' in body and "Succeeded" in body
    assert 'id="build-log-poller"' not in body
    raw = client.get(log_url)
    assert raw["Content-Type"].startswith("text/plain") and "Succeeded" in raw.content.decode()

    done = client.get(f"/w/ws-main/environments/plain/?build={build.pk}").content.decode()
    assert 'id="build-log-poller"' not in done and "Resolved packages" in done and "cache miss" in done


def test_a_failed_build_shows_its_failing_line_at_the_top_of_the_page(workspace, owner, client):
    create(
        workspace,
        owner,
        {"name": "broken", "image": "studio/base:bookworm", "conda_file": "dependencies:\n  - python=3.4\n"},
    )
    client.force_login(owner)
    client.post("/w/ws-main/environments/broken/versions/1/build/", {"backend": "venv"})
    build = EnvironmentBuild.objects.get(version__environment__name="broken")
    assert tasks.build_environment(build.pk).startswith("failed")
    page = client.get("/w/ws-main/environments/broken/").content.decode()
    alert = page.index("build-alert")
    assert alert < page.index("<h1>")
    assert "Python 3.4" in page[alert : page.index("<h1>")]
    assert ActivityEvent.objects.filter(verb="environment.build_failed").exists()


def test_user_managed_environments_use_their_interpreter_as_is(workspace, owner):
    import sys

    from environments import builds

    version = create(
        workspace,
        owner,
        {
            "name": "managed",
            "image": "studio/base:bookworm",
            "user_managed_dependencies": True,
            "interpreter_path": sys.executable,
        },
    )
    build = builds.ensure_built(version, "venv", workspace=workspace)
    assert build.python == sys.executable and any(p.lower().startswith("django==") for p in build.resolved_packages)
