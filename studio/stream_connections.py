"""A streaming response gives its request's database connection back before it streams.

Under ASGI a sync view and the middleware chain run in a thread of their own for the request, and
Django closes that thread's connections when the response is closed: for a live log stream (SSE)
that is when the stream ends, minutes or hours later. With the web's connection pool
(STUDIO_DB_POOL_SIZE) each open stream would hold one of its few connections meanwhile, and a
handful of open log tabs would leave no connection for any other request. The streams themselves
take a connection for each step, in a shared thread, release it after the step, and give a
pooled one back while they sleep between polls (`jobs.views.logs`, `endpoints.views_logs`).

First in MIDDLEWARE, so every other middleware has finished with the database when it runs.
"""

from __future__ import annotations

from django.db import connections


class ReleaseConnectionsForStreams:
    sync_capable = True
    async_capable = False  # it must run in the request's own thread: connections are per thread

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.streaming:
            release()
        return response


def release(*, pooled_only: bool = False) -> None:
    """Give this thread's database connections back: to the pool when there is one, else closed
    (`pooled_only`: leave unpooled ones open, for a caller about to query again soon). Never
    inside a transaction (a test's, or ATOMIC_REQUESTS)."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block or (pooled_only and getattr(connection, "pool", None) is None):
            continue
        connection.close()
