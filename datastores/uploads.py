"""Streaming uploads: request bodies go chunk by chunk into the datastore, never whole into memory.

Two ways in: a raw request body (`PUT …/files/?path=`; `write_body`), and multipart forms
(browser uploads, `POST …/versions/` with files), which `parse_multipart` feeds through
`StoreUploadHandler` straight into an `UploadSink` while Django parses the body. Relative folder
paths in multipart file names are kept (Django's own parser drops them) and then cleaned.

Local files that become a data asset land in `workspaceblobstore/LocalUpload/<hash>/…`, as with
Azure ML: staged under LocalUpload/_staging/<uuid>/ while they stream (hashing as they go), then
moved to the folder named after the content hash (or dropped, when that content is already there).
Every file keeps the free-space reserve of a local store (datastores/reserve.py) as it streams.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import MultiValueDict

from datastores import paths
from datastores.immutable import check_not_protected
from datastores.models import Datastore
from datastores.reserve import Reserve
from datastores.storage import StorageError, Store

LOCAL_UPLOAD = "LocalUpload"
STAGING = f"{LOCAL_UPLOAD}/_staging"
CHUNK = 1024 * 1024


@dataclass
class StoredFile:
    path: str  # relative to the sink's folder
    size: int
    sha256: str


class _Writer:
    def __init__(self, store: Store, full_rel: str, rel: str):
        self.store, self.full_rel, self.rel = store, full_rel, rel
        self.reserve = Reserve(store)
        self.reserve.check()
        self.handle = store.open_write(full_rel)
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.reserve.take(len(chunk))
        with self.store.errors(self.full_rel):
            self.handle.write(chunk)
        self.digest.update(chunk)
        self.size += len(chunk)

    def close(self) -> StoredFile:
        with self.store.errors(self.full_rel):
            self.handle.close()
        return StoredFile(self.rel, self.size, self.digest.hexdigest())

    def abort(self) -> None:
        from datastores.storage import _discard

        _discard(self.handle)


@dataclass
class UploadSink:
    """Where uploaded files go: `folder` in `store`. Refuses to overwrite unless told to."""

    store: Store
    folder: str
    overwrite: bool = False
    datastore: Datastore | None = None  # when given, files of data asset versions are refused
    files: list[StoredFile] = field(default_factory=list)
    current: _Writer | None = None

    def open(self, rel: str) -> _Writer:
        rel = paths.clean_path(rel, field="file")
        if not rel:
            raise ValidationError({"file": ["Every uploaded file needs a name."]})
        if any(f.path == rel for f in self.files):
            raise ValidationError({"file": [f"{rel} was sent twice."]})
        target = paths.join(self.folder, rel)
        if self.datastore is not None:
            check_not_protected(self.datastore, target, field="file", tree=False)
        if not self.overwrite and self.store.exists(target):
            raise ValidationError({"file": [f"{target} already exists. Tick 'overwrite' to replace it."]})
        self.current = _Writer(self.store, target, rel)
        return self.current

    def finish(self) -> StoredFile:
        assert self.current is not None
        stored = self.current.close()
        self.current = None
        self.files.append(stored)
        return stored

    def abort(self) -> None:
        if self.current is not None:
            self.current.abort()
            self.current = None

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


class StoredUpload(UploadedFile):
    """What lands in request.FILES: a record of a file already written to storage."""

    def __init__(self, stored: StoredFile):
        super().__init__(file=None, name=stored.path, size=stored.size)
        self.stored = stored


class StoreUploadHandler(FileUploadHandler):
    """Writes each uploaded file's chunks into the sink as they arrive."""

    chunk_size = CHUNK

    def __init__(self, request, sink: UploadSink):
        super().__init__(request)
        self.sink = sink

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.sink.open(file_name)

    def receive_data_chunk(self, raw_data, start):
        self.sink.current.write(raw_data)
        return None

    def file_complete(self, file_size):
        return StoredUpload(self.sink.finish())

    def upload_interrupted(self):
        self.sink.abort()


class RelativePathMultiPartParser(MultiPartParser):
    """Django's parser, but keeping "folder/file.csv" in file names (for folder uploads); the
    path is then cleaned by the sink, which refuses `..`, absolute paths and the like."""

    def sanitize_file_name(self, file_name):
        file_name = html.unescape(file_name).replace("\\", "/")
        file_name = "".join(ch for ch in file_name if ch.isprintable())
        paths.clean_path(file_name, field="file")
        return file_name or None


def parse_multipart(request, sink: UploadSink):
    """Parse a multipart body, streaming its files into `sink`. Returns (data, files). If the body
    was already parsed (a CSRF check without the header reads request.POST), use that result."""
    handler = StoreUploadHandler(request, sink)
    if hasattr(request, "_files"):
        # Parsed already by Django's own parser (files in temporary files): copy them over.
        try:
            for uploaded in [f for key in request.FILES for f in request.FILES.getlist(key)]:
                writer = sink.open(uploaded.name)
                for chunk in uploaded.chunks(CHUNK):
                    writer.write(chunk)
                sink.finish()
        except (ValidationError, StorageError):
            sink.abort()
            raise
        return request.POST, request.FILES
    request.upload_handlers = [handler]
    parser = RelativePathMultiPartParser(request.META, request, request.upload_handlers, request.encoding)
    try:
        data, files = parser.parse()
    except (ValidationError, StorageError):
        sink.abort()
        _keep_fields_read(request, parser)
        raise
    except (MultiPartParserError, StopUpload) as exc:
        sink.abort()
        _keep_fields_read(request, parser)
        raise ValidationError({"file": [f"The upload could not be read: {exc}"]}) from None
    request._post, request._files = data, files
    return data, files


def _keep_fields_read(request, parser: MultiPartParser) -> None:
    """After a refused upload, request.POST holds the fields read before it (the parser's own
    QueryDict), so a page can show its form again as the user filled it in."""
    fields = getattr(parser, "_post", None)
    request._post = fields if isinstance(fields, QueryDict) else QueryDict()
    request._files = MultiValueDict()


def write_body(request, sink: UploadSink, rel: str) -> StoredFile:
    """Stream a raw request body (PUT) into `sink` as the file `rel`."""
    writer = sink.open(rel)
    remaining = int(request.META.get("CONTENT_LENGTH") or 0) or None
    try:
        writer.reserve.need_body(request)
        while True:
            size = CHUNK if remaining is None else min(CHUNK, remaining)
            if size == 0:
                break
            chunk = request.read(size)
            if not chunk:
                break
            writer.write(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    except Exception:
        sink.abort()
        raise
    return sink.finish()


def staging_sink(store: Store) -> UploadSink:
    return UploadSink(store=store, folder=f"{STAGING}/{uuid.uuid4().hex}")


def content_hash(files: list[StoredFile]) -> str:
    """The LocalUpload folder name: sha256 over each file's path and content hash (32 hex)."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    return digest.hexdigest()[:32]


def settle_local_upload(sink: UploadSink) -> str:
    """Move staged files to LocalUpload/<hash>/ and return that folder (relative to the store)."""
    if not sink.files:
        raise ValidationError({"file": ["Choose at least one file to upload."]})
    final = f"{LOCAL_UPLOAD}/{content_hash(sink.files)}"
    store = sink.store
    try:
        if store.exists(final):
            store.rm(sink.folder, recursive=True)
        else:
            store.move(sink.folder, final)
    except StorageError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    _drop_empty_staging(store)
    return final


def _drop_empty_staging(store: Store) -> None:
    """Object stores have no empty folders; on a local store remove the emptied staging folder."""
    if store.local:
        with contextlib.suppress(OSError):
            os.rmdir(store.full(STAGING))


def discard(sink: UploadSink) -> None:
    """Remove what a failed request staged."""
    if sink.files or sink.current is not None:
        sink.abort()
        with contextlib.suppress(StorageError, ValidationError):
            sink.store.rm(sink.folder, recursive=True)
        _drop_empty_staging(sink.store)
