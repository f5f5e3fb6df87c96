"""Under ASGI (production runs uvicorn), Django's middleware runs in one worker thread per request
(studio.sync_chain), and sessions, CSRF and the MLflow API behave as under WSGI."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref import sync
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.common import CommonMiddleware
from django.test import AsyncClient

from studio import services
from tests.factories import PASSWORD
from tracking.services import do_create_experiment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hops(monkeypatch):
    """Counts sync_to_async calls made while serving a request (each is a hop to a worker thread)."""
    count = [0]
    original = sync.SyncToAsync.__call__

    def counted(self, *args, **kwargs):
        count[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)
    return count


def _serve(method, *args, **kwargs):
    """Runs an AsyncClient call in a thread of its own: a browser test earlier in the session
    (Playwright's sync API) leaves an event loop on the main thread, where async_to_sync refuses."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(sync.async_to_sync(method), *args, **kwargs).result()


def _record_thread(monkeypatch, middleware, threads: set) -> None:
    original = middleware.process_request

    def recorded(self, request):
        threads.add(threading.get_ident())
        return original(self, request)

    monkeypatch.setattr(middleware, "process_request", recorded)


def test_an_asgi_request_runs_the_middleware_chain_in_one_thread(workspace, owner, hops, monkeypatch):
    _, raw = services.do_create_token(user=owner, name="asgi")
    do_create_experiment(workspace, actor=owner, name="under-asgi")
    threads: set[int] = set()
    _record_thread(monkeypatch, SessionMiddleware, threads)
    _record_thread(monkeypatch, CommonMiddleware, threads)
    hops[0] = 0
    response = _serve(
        AsyncClient().get,
        "/mlflow/api/2.0/mlflow/experiments/search",
        {"max_results": 10},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["experiments"][0]["name"] == "under-asgi"
    assert len(threads) == 1
    # One hop into the chain, one into the view, the request signals: not two per middleware (18).
    assert hops[0] <= 6, hops[0]


def test_sessions_and_csrf_still_guard_writes_under_asgi(workspace, owner):
    client = AsyncClient(enforce_csrf_checks=True)
    assert client.login(username=owner.username, password=PASSWORD)
    listed = _serve(client.get, "/mlflow/api/2.0/mlflow/experiments/search")
    assert listed.status_code == 200
    refused = _serve(
        client.post, "/mlflow/api/2.0/mlflow/experiments/create", {"name": "x"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
