"""Multipart artifact uploads (`mlflow-artifacts/mpu/*`), which the MLflow client uses for large
files: create hands out one signed part URL per part (the client PUTs parts in parallel, without
its token: the signature is the authority, for one part of one upload, for a day), complete joins
the parts in order into the artifact (streamed), abort drops them. Parts wait in `.uploads/` of
the artifact store, outside every artifact route."""

from __future__ import annotations

import posixpath
import uuid

from django.conf import settings
from django.core import signing
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from datastores.reserve import Reserve
from studio.models import Workspace
from tracking import artifacts
from tracking.api.artifacts import _body_chunks, _storage
from tracking.api.common import endpoint, int_param
from tracking.artifacts import store_for_workspace
from tracking.errors import MlflowError

SALT = "studio.tracking.mpu"
MAX_AGE = 24 * 3600
MAX_PARTS = 10000


def _target(caller, path: str, params) -> artifacts.Target:
    name = posixpath.basename(str(params.get("path") or ""))
    if not name:
        raise MlflowError("path (the file's name) is required.")
    return artifacts.resolve(caller, f"{path}/{name}", write=True)


def _upload_id(params) -> str:
    value = str(params.get("upload_id") or "")
    try:
        return uuid.UUID(hex=value).hex
    except ValueError:
        raise MlflowError(f"Invalid upload_id {value!r}.") from None


@endpoint("POST")
def create(request, caller, params, path: str):
    target = _target(caller, path, params)
    parts = int_param(params.get("num_parts"), "num_parts", 1, MAX_PARTS)
    upload_id = uuid.uuid4().hex
    workspace = caller.workspace or Workspace.objects.get(name=path.split("/", 1)[0])
    credentials = []
    for number in range(1, parts + 1):
        token = signing.dumps({"w": workspace.pk, "u": upload_id, "n": number}, salt=SALT)
        url = request.build_absolute_uri(f"/mlflow/api/2.0/mlflow-artifacts/mpu/part/{token}")
        credentials.append({"part_number": number, "url": url, "headers": {}})
    del target  # checked: the caller may write there
    return {"upload_id": upload_id, "credentials": credentials}


@csrf_exempt
def part(request, token: str):
    """PUT one part (the signed URL is the credential)."""
    try:
        if request.method != "PUT":
            raise MlflowError("Use PUT.", "ENDPOINT_NOT_FOUND", status=405)
        try:
            claim = signing.loads(token, salt=SALT, max_age=MAX_AGE)
        except signing.BadSignature:
            raise MlflowError("This part URL is invalid or has expired.", "PERMISSION_DENIED") from None
        store = store_for_workspace(Workspace.objects.get(pk=claim["w"]))
        limit = settings.STUDIO_MLFLOW_MAX_ARTIFACT_BYTES
        reserve = Reserve(store)
        _storage(reserve.need_body, request)
        name = f".uploads/{claim['u']}/{claim['n']:05d}"
        _storage(store.write_stream, name, _body_chunks(request, limit), reserve=reserve)
        response = JsonResponse({})
        response["ETag"] = f'"{claim["n"]}"'
        return response
    except Workspace.DoesNotExist:
        return JsonResponse({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No such upload."}, status=404)
    except MlflowError as exc:
        return JsonResponse(exc.payload(), status=exc.status)


@endpoint("POST")
def complete(request, caller, params, path: str):
    target = _target(caller, path, params)
    upload_id = _upload_id(params)
    folder = f".uploads/{upload_id}"
    numbers = sorted(int(p.get("part_number", 0)) for p in params.get("parts") or [] if isinstance(p, dict))
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        raise MlflowError("parts must number 1..n without gaps.")
    names = [f"{folder}/{n:05d}" for n in numbers]
    for name in names:
        if not _storage(target.store.isfile, name):
            raise MlflowError(f"Part {name.rsplit('/', 1)[1].lstrip('0')} of upload {upload_id} is missing.")
    limit = settings.STUDIO_MLFLOW_MAX_ARTIFACT_BYTES

    def joined():
        total = 0
        for name in names:
            for chunk in target.store.iter_bytes(name):
                total += len(chunk)
                if total > limit:
                    raise MlflowError(f"The artifact is larger than {limit} bytes, the limit of this server.")
                yield chunk

    try:
        # Joining copies the parts before they are dropped: the artifact's size is needed once
        # more. Refused, the parts go too: the upload cannot complete.
        reserve = Reserve(target.store)
        _storage(reserve.need, sum(_storage(target.store.info, name).size or 0 for name in names))
        _storage(target.store.write_stream, target.path, joined(), reserve=reserve)
    finally:
        _storage(target.store.rm, folder, recursive=True)
    return {}


@endpoint("POST")
def abort(request, caller, params, path: str):
    target = _target(caller, path, params)
    _storage(target.store.rm, f".uploads/{_upload_id(params)}", recursive=True)
    return {}
