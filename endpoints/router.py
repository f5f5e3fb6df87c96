"""The scoring URI, `/endpoints/<ws>/<name>/score`: authenticate the caller (endpoint key, or a
member's API token for `aml_token` endpoints), pick a deployment by the traffic split (or the
`azureml-model-deployment` header), forward the request to one of its ready instances, copy a
share to the mirror deployment, and count the request in the deployment's metrics.

Built for speed: under uvicorn the path is served by `app`, a plain ASGI app mounted in front of
Django (no middleware, no URL resolver, no database on the request path: `routes` caches what it
needs), with one pooled aiohttp session per process. `score` is the same logic as a Django view,
for Django's own servers and test client.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import aiohttp
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import close_old_connections, connections
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host
from django.views.decorators.csrf import csrf_exempt

from endpoints import metrics, mirror, routes

DEPLOYMENT_HEADER = "azureml-model-deployment"
PATH = re.compile(r"^/endpoints/(?P<workspace>[^/]+)/(?P<name>[^/]+)/score$")


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def _error(status: int, detail: str, **extra) -> Reply:
    reply = Reply(status, json.dumps({"detail": detail, **extra}).encode())
    if status == 401:
        reply.headers.append(("WWW-Authenticate", "Bearer"))
    return reply


def _bearer(headers: Mapping[str, str]) -> str:
    kind, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" else ""


class TooLarge(Exception):
    pass


async def handle(
    workspace: str,
    name: str,
    headers: Mapping[str, str],
    read_body: Callable[[], Awaitable[bytes]],
    cache: routes.Cache,
    session: aiohttp.ClientSession,
    background: Callable | None,
) -> Reply:
    """Route one scoring request. `headers` are lower-cased; `background` schedules the mirror
    call after the answer (None: it runs alongside the live call, awaited)."""
    started = time.perf_counter()
    route = await cache.get(workspace, name)
    presented = _bearer(headers)
    # The same answer for a missing endpoint and a wrong key: a stranger learns no names.
    if route is not None:
        route = await cache.authorised(workspace, name, route, presented)
    if route is None:
        return _error(401, "Missing or wrong key: send Authorization: Bearer <endpoint key>.")
    limit = settings.STUDIO_SCORE_MAX_BYTES
    try:
        if int(headers.get("content-length") or 0) > limit:
            raise TooLarge
        body = await read_body()
    except TooLarge:
        return _error(413, f"The request body is larger than {limit} bytes.")
    except ValueError:
        return _error(400, "The Content-Length header is not a number.")
    try:
        json.loads(body or b"null")
    except ValueError:
        return _error(400, "The request body is not JSON.", errors={"body": ["Send a JSON document."]})
    shadow = None
    chosen = headers.get(DEPLOYMENT_HEADER, "").strip()
    if chosen:
        if chosen not in route.deployments:
            return _error(404, f"{name} has no deployment named {chosen}.")
    else:
        chosen = route.split.pick() or ""
        if not chosen or chosen not in route.deployments:
            return _error(503, f"{name} sends no traffic to any deployment: set its traffic.")
        shadow = route.mirror.pick() if route.mirror is not None else None
        if shadow not in route.deployments:
            shadow = None
    content_type = headers.get("content-type", "application/json")
    if shadow is not None and background is None:
        reply, shadow_answer = await asyncio.gather(
            _forward(cache, workspace, name, chosen, body, content_type, session),
            _timed(cache, workspace, name, shadow, body, content_type, session),
        )
    else:
        reply = await _forward(cache, workspace, name, chosen, body, content_type, session)
    ms = (time.perf_counter() - started) * 1000
    metrics.record(route.deployments[chosen].id, ms, reply.status)
    reply.headers.append((DEPLOYMENT_HEADER, chosen))
    if shadow is not None:
        live = (reply.status, reply.body, ms)
        if background is None:
            mirror.record(route.endpoint_id, chosen, shadow, body, live, shadow_answer)
        else:
            background(
                _shadow(cache, workspace, name, route.endpoint_id, chosen, shadow, body, content_type, session, live)
            )
    return reply


async def _forward(
    cache: routes.Cache,
    workspace: str,
    name: str,
    deployment: str,
    body: bytes,
    content_type: str,
    session: aiohttp.ClientSession,
) -> Reply:
    """Send the body to a ready instance of `deployment`. An instance that refuses the connection
    (stopped, restarting) never saw the request, and one that drops it (its process or node died
    with the connection open) will not answer it: either way the next one is tried on a reloaded
    route. Scoring keeps no state of the request (init() once, run() per request), so a request
    an instance took down with it is safe to send to another."""
    route = await cache.get(workspace, name)
    for _ in range(4):
        target = route.deployments.get(deployment) if route is not None else None
        instance = target.pick() if target is not None else None
        if instance is None:
            return _error(503, f"The deployment {deployment} has no ready instance yet.")
        try:
            async with session.post(
                instance.url,
                data=body,
                headers={"Content-Type": content_type, routes.KEY_HEADER: instance.secret},
                timeout=aiohttp.ClientTimeout(total=settings.STUDIO_SCORE_TIMEOUT_SECONDS),
            ) as answer:
                data = await answer.read()
                return Reply(answer.status, data, answer.headers.get("Content-Type", "application/json"))
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
            routes.mark_bad(instance)
            route = await cache.reload(workspace, name)
        except TimeoutError:
            return _error(
                504, f"The deployment {deployment} did not answer within {settings.STUDIO_SCORE_TIMEOUT_SECONDS} s."
            )
        except aiohttp.ClientError as exc:
            return _error(502, f"The deployment {deployment} did not answer: {type(exc).__name__}.")
    return _error(503, f"No instance of the deployment {deployment} accepted the request.")


async def _timed(cache, workspace, name, deployment, body, content_type, session) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    reply = await _forward(cache, workspace, name, deployment, body, content_type, session)
    return reply.status, reply.body, (time.perf_counter() - started) * 1000


async def _shadow(cache, workspace, name, endpoint_id, live_name, shadow, body, content_type, session, live) -> None:
    answer = await _timed(cache, workspace, name, shadow, body, content_type, session)
    mirror.record(endpoint_id, live_name, shadow, body, live, answer)


# --- Django view: the same logic under Django's sync handlers (runserver, WSGI, the test client) ---


def _run_on_helper_loop(make_coroutine):
    """Run `make_coroutine(run_sync)` in a fresh event loop on a helper thread while this thread
    runs its database calls (`run_sync`), so they use this thread's connection (and a test's
    transaction) and no event loop is needed in this thread: the calling thread may already have
    one running (a browser test's), where Django refuses async_to_sync."""
    calls: queue.SimpleQueue = queue.SimpleQueue()
    outcome: dict = {}

    async def run_sync(fn, *args):
        future: concurrent.futures.Future = concurrent.futures.Future()
        calls.put((fn, args, future))
        return await asyncio.wrap_future(future)

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make_coroutine(run_sync))
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread below
            outcome["error"] = exc
        finally:
            calls.put(None)

    thread = threading.Thread(target=target, name="router-request", daemon=True)
    thread.start()
    while (item := calls.get()) is not None:
        fn, args, future = item
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - raised in the coroutine that asked
            future.set_exception(exc)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@csrf_exempt
def score(request, workspace: str, name: str):
    if request.method != "POST":
        response = HttpResponse(status=405)
        response["Allow"] = "POST"
        return response
    headers = {k.lower(): v for k, v in request.headers.items()}

    async def read_body() -> bytes:
        # Read only once the key and the declared length passed, as the mounted app does.
        try:
            return request.body
        except RequestDataTooBig:
            raise TooLarge from None

    async def route(run_sync) -> Reply:
        async with aiohttp.ClientSession() as session:
            return await handle(workspace, name, headers, read_body, routes.Cache(run_sync), session, background=None)

    reply = _run_on_helper_loop(route)
    if metrics.due():
        mirror.flush_all()
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    for key, value in reply.headers:
        response[key] = value
    return response


# --- The ASGI app mounted before Django (studio.asgi) ---

# One thread for the router's database work (reloads, flushes): one connection per process.
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="router-db")
_state: dict[asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, routes.Cache]] = {}
_tasks: set[asyncio.Task] = set()


def _db_call(fn, *args):
    close_old_connections()  # a pooled thread's connection may have gone away
    return fn(*args)


async def _in_thread(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(_executor, _db_call, fn, *args)


def _spawn(coroutine) -> None:
    task = asyncio.get_running_loop().create_task(coroutine)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _flusher() -> None:
    while True:
        await asyncio.sleep(metrics.interval())
        try:
            await _in_thread(mirror.flush_all)
        except Exception:  # noqa: BLE001 - a failed flush loses one interval, never the router
            logging.getLogger(__name__).exception("flushing endpoint metrics failed")


def _loop_state() -> tuple[aiohttp.ClientSession, routes.Cache]:
    loop = asyncio.get_running_loop()
    state = _state.get(loop)
    if state is None:
        connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=30, ttl_dns_cache=None)
        state = _state[loop] = (
            aiohttp.ClientSession(connector=connector, skip_auto_headers=("User-Agent",)),
            routes.Cache(_in_thread, _spawn),
        )
        _spawn(_flusher())
    return state


_hosts: dict[str, bool] = {}


def _host_allowed(host: str) -> bool:
    """Django's ALLOWED_HOSTS check (the mount skips Django's request cycle), remembered per host."""
    allowed = _hosts.get(host)
    if allowed is None:
        domain, _ = split_domain_port(host)
        allowed = bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)
        if len(_hosts) < 1000:  # a flood of made-up hosts is checked every time, never stored
            _hosts[host] = allowed
    return allowed


def _security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    """What Django's SecurityMiddleware adds to every answer, for the router's answers too."""
    headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
    if secure and settings.SECURE_HSTS_SECONDS:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append((b"strict-transport-security", value.encode()))
    return headers


async def _send(send, reply: Reply, secure: bool = False) -> None:
    headers = _security_headers(secure) + [
        (b"content-type", reply.content_type.encode("latin-1")),
        (b"content-length", str(len(reply.body)).encode()),
    ]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


async def app(scope, receive, send) -> None:
    """ASGI app for `PATH` (mounted by `studio.asgi` through `studio.asgi_mounts`)."""
    match = PATH.match(scope["path"])
    assert match is not None
    if scope["method"] != "POST":
        await _send(send, Reply(405, b"", headers=[("Allow", "POST")]))
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if not _host_allowed(headers.get("host", "")):
        await _send(send, _error(400, "The Host header is not one this server answers to (ALLOWED_HOSTS)."))
        return
    limit = settings.STUDIO_SCORE_MAX_BYTES

    async def read_body() -> bytes:
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise TooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    session, cache = _loop_state()
    reply = await handle(match["workspace"], match["name"], headers, read_body, cache, session, background=_spawn)
    await _send(send, reply, secure=scope.get("scheme") == "https")


async def shutdown() -> None:
    """Write what this process still holds, close the pooled sessions (at the server's shutdown)."""
    await _in_thread(mirror.flush_all)
    for session, _ in list(_state.values()):
        await session.close()
    _state.clear()
    await _in_thread(connections.close_all)
