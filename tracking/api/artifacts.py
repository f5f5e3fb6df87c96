"""The mlflow-artifacts proxy: PUT (streamed upload), GET (streamed download), list, DELETE,
over the path space of tracking.artifacts. Bodies are never read whole into memory."""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from datastores.reserve import Reserve
from datastores.storage import StorageError, StorageNotFound
from studio.errors import InsufficientStorage
from tracking import artifacts
from tracking.api.common import endpoint
from tracking.errors import MlflowError

CHUNK = 1024 * 1024


def _storage(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except InsufficientStorage as exc:
        # 507, not MLflow's 429 for RESOURCE_EXHAUSTED: the client would retry a 429 in vain.
        raise MlflowError(" ".join(exc.messages), "RESOURCE_EXHAUSTED", status=507) from None
    except StorageNotFound as exc:
        raise MlflowError(str(exc), "RESOURCE_DOES_NOT_EXIST") from None
    except StorageError as exc:
        raise MlflowError(str(exc), "INTERNAL_ERROR", status=500) from None


def _body_chunks(request, limit: int):
    """The request body in chunks, refusing more than `limit` bytes as it goes."""
    total = 0
    while True:
        chunk = request.read(CHUNK)
        if not chunk:
            return
        total += len(chunk)
        if total > limit:
            raise MlflowError(f"The artifact is larger than {limit} bytes, the limit of this server.")
        yield chunk


@endpoint("GET", "PUT", "DELETE", raw=True)
def artifact(request, caller, params, path: str = ""):
    if request.method == "PUT":
        limit = settings.STUDIO_MLFLOW_MAX_ARTIFACT_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared and declared.isdigit() and int(declared) > limit:
            raise MlflowError(f"The artifact is larger than {limit} bytes, the limit of this server.")
        target = artifacts.resolve(caller, path, write=True)
        if target.path == target.root:
            raise MlflowError("Give the artifact a file name.")
        reserve = Reserve(target.store)
        _storage(reserve.need_body, request)
        _storage(target.store.write_stream, target.path, _body_chunks(request, limit), reserve=reserve)
        return JsonResponse({})
    if request.method == "DELETE":
        target = artifacts.resolve(caller, path, write=True)
        _storage(target.store.rm, target.path, recursive=True)
        return JsonResponse({})
    target = artifacts.resolve(caller, path, write=False)
    if not _storage(target.store.isfile, target.path):
        raise MlflowError(f"No artifact at '{path}'.", "RESOURCE_DOES_NOT_EXIST")
    entry = _storage(target.store.info, target.path)
    asynchronous = isinstance(request, ASGIRequest)
    if target.store.local and not asynchronous:
        response = FileResponse(open(target.store.full(target.path), "rb"))  # noqa: SIM115 - closed by Django
    else:
        chunks = target.store.aiter_bytes(target.path) if asynchronous else target.store.iter_bytes(target.path)
        response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
        if entry.size is not None:
            response["Content-Length"] = str(entry.size)
    response["Content-Disposition"] = content_disposition_header(True, entry.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@endpoint("GET", raw=True)
def list_artifacts(request, caller, params):
    path = params.get("path") or ""
    target = artifacts.resolve(caller, path, write=False)
    return JsonResponse({"files": list_files(target)})


def list_files(target) -> list[dict]:
    """Entries directly under the target, named relative to it (MLflow's listing shape)."""
    if not _storage(target.store.isdir, target.path):
        return []
    base = target.path + "/"
    out = []
    for entry in _storage(target.store.ls, target.path):
        item = {"path": entry.path.removeprefix(base), "is_dir": entry.is_dir}
        if not entry.is_dir and entry.size is not None:
            item["file_size"] = entry.size
        out.append(item)
    return sorted(out, key=lambda item: item["path"])


@endpoint("GET")
def server_info(request, caller, params):
    return {"store_type": "SqlStore", "multipart_uploads_enabled": True, "multipart_downloads_enabled": False}


def not_found(request, **kwargs):
    return JsonResponse(
        {"error_code": "ENDPOINT_NOT_FOUND", "message": f"Studio does not implement {request.path}."}, status=404
    )
