"""Streaming one datastore file to the client, shared by the pages and the APIs of datastores and
the registry, and the translation of storage errors into answers (404 for a missing path, 400 with
the path field for any other storage failure)."""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils.http import content_disposition_header
from rest_framework import exceptions

from datastores import paths
from datastores.models import Datastore
from datastores.storage import StorageError, StorageNotFound, store_for


@contextlib.contextmanager
def storage_errors(field: str = "path") -> Iterator[None]:
    try:
        yield
    except StorageNotFound as exc:
        raise exceptions.NotFound(str(exc)) from None
    except StorageError as exc:
        raise ValidationError({field: [str(exc)]}) from None


def _stream(store, path: str, size: int | None, name: str, *, asynchronous: bool) -> StreamingHttpResponse:
    content = store.aiter_bytes(path) if asynchronous else store.iter_bytes(path)
    response = StreamingHttpResponse(content, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    if size is not None:
        response["Content-Length"] = str(size)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def download_response(request, datastore: Datastore, path: str) -> StreamingHttpResponse:
    """Stream one file of a datastore to the client (shared by the page and the API): an async
    iterator under ASGI, a plain one under WSGI, so neither server collects the file in memory."""
    from django.core.handlers.asgi import ASGIRequest

    asynchronous = isinstance(getattr(request, "_request", request), ASGIRequest)
    path = paths.clean_path(path)
    store = store_for(datastore)
    with storage_errors():
        if not path or not store.isfile(path):
            raise Http404("No such file.")
        entry = store.info(path)
    if store.local and not asynchronous:
        # A WSGI server can hand a real file to sendfile().
        response = FileResponse(open(store.full(path), "rb"), as_attachment=True, filename=entry.name)  # noqa: SIM115
        response["X-Content-Type-Options"] = "nosniff"
        return response
    return _stream(store, path, entry.size, entry.name, asynchronous=asynchronous)
