"""Keeps Django's middleware chain synchronous under ASGI.

Django runs an async-capable middleware asynchronously when the handler inside it is async, and
then hops to a worker thread (`sync_to_async`) for each of its `process_request` and
`process_response` hooks: with Django's own middleware that is about 18 thread hops a request,
several milliseconds on a busy machine. Placed last in MIDDLEWARE, this sync-only middleware makes
every middleware outside it run synchronously, so a request makes one hop into the chain (and one
into a sync view) instead. Async views and async streaming responses are unaffected: the handler
inside still awaits them on the event loop."""

from __future__ import annotations


class SyncMiddlewareChain:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
