"""ASGI apps served in front of Django for their paths (a hook: an app registers its own in
`AppConfig.ready()`, so `studio.asgi` imports no higher layer). Used where Django's request
cycle costs too much for the request rate, such as the endpoints' scoring router.

The dispatcher also answers the ASGI lifespan protocol (Django's handler does not), running the
registered shutdown hooks when the server stops."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]

_mounts: list[tuple[re.Pattern[str], ASGIApp]] = []
_shutdown: list[Callable[[], Awaitable[None]]] = []


def register(pattern: re.Pattern[str], app: ASGIApp, shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
    """Serve the HTTP paths matching `pattern` with `app` instead of Django."""
    if all(existing is not pattern for existing, _ in _mounts):
        _mounts.append((pattern, app))
        if shutdown is not None:
            _shutdown.append(shutdown)


def dispatcher(django_app: ASGIApp) -> ASGIApp:
    async def application(scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            for pattern, app in _mounts:
                if pattern.match(path):
                    await app(scope, receive, send)
                    return
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        await django_app(scope, receive, send)

    return application


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for hook in _shutdown:
                try:
                    await hook()
                except Exception:  # noqa: BLE001 - one failing hook must not keep the others from running
                    log.exception("ASGI shutdown hook failed")
            await send({"type": "lifespan.shutdown.complete"})
            return
