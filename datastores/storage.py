"""Storage access: one `Store` per datastore, over an fsspec filesystem (local, adlfs, s3fs).

A Store takes clean relative paths only (paths.clean_path), streams in blocks of
STUDIO_STORAGE_BLOCK_SIZE, and turns every storage failure into a `StorageError` whose message
has had the datastore's secrets masked out. Nothing here logs or returns a credential.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.views.decorators.debug import sensitive_variables

from datastores import paths
from datastores.masking import mask
from studio import netcheck

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from datastores.models import Datastore
    from datastores.reserve import Reserve

log = logging.getLogger(__name__)


# Chunks handed to the web server: small enough that a few in flight cost little memory; the
# storage library still reads ahead in blocks of STUDIO_STORAGE_BLOCK_SIZE.
DOWNLOAD_CHUNK = 1024 * 1024


class StorageError(Exception):
    """A storage operation failed; the message is safe to show (secrets masked)."""


class StorageNotFound(StorageError):
    pass


@dataclass(frozen=True)
class Entry:
    """One file or folder in a listing; `path` is relative to the datastore's root."""

    name: str
    path: str
    is_dir: bool
    size: int | None = None
    modified: datetime | None = None


def _modified(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


_DENIED_CODES = (
    "AuthenticationFailed",
    "AuthorizationFailure",
    "AuthorizationPermissionMismatch",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthorizationResourceTypeMismatch",
)
_MISSING_CODES = ("ContainerNotFound", "NoSuchBucket")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 5:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


# Failures of the machine's own disk, said as the system says them (a fixed text, never remote).
_LOCAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.EACCES}


def _describe(exc: BaseException, where: str) -> str:
    """Say what went wrong in words a user can act on, without the library's internals."""
    status, code = None, ""
    for link in _chain(exc):
        status = status or getattr(link, "status_code", None)
        raw_code = getattr(link, "error_code", None)
        code = code or str(getattr(raw_code, "value", raw_code) or "")
        response = getattr(link, "response", None)
        if isinstance(response, dict):  # botocore ClientError
            code = code or response.get("Error", {}).get("Code") or ""
            status = status or response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    text = " ".join(str(link) for link in _chain(exc))
    code = code or next((c for c in _DENIED_CODES + _MISSING_CODES if c in text), "")
    names = {type(link).__name__ for link in _chain(exc)}
    if (
        isinstance(exc, PermissionError)
        or status in (401, 403)
        or code in _DENIED_CODES
        or ("ClientAuthenticationError" in names)
    ):
        reason = code or status or "access denied"
        return f"The storage service refused access to {where} ({reason}): check the credentials and their permissions."
    if code in _MISSING_CODES:
        return f"{where} does not exist ({code})."
    if isinstance(exc, FileNotFoundError) or status == 404 or "ResourceNotFoundError" in names:
        return f"{where} was not found."
    if isinstance(exc, OSError) and exc.errno in _LOCAL_ERRNOS:
        return f"{os.strerror(exc.errno)} on {where}."
    # Never the library's text: it can quote whatever answered at the endpoint (studio.netcheck).
    if names & {"ServiceResponseTimeoutError", "ServiceRequestTimeoutError", "ReadTimeoutError"}:
        return f"The storage service for {where} did not answer in time (timed out)."
    if names & {"ServiceRequestError", "EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError"} or (
        isinstance(exc, ConnectionError | TimeoutError) or (isinstance(exc, OSError) and exc.errno is not None)
    ):
        return f"Could not reach the storage service for {where} ({_connection_reason(exc)})."
    detail = f"HTTP {status}" if status else type(exc).__name__
    return f"The storage service for {where} gave an answer Studio cannot use ({detail})."


def _connection_reason(exc: BaseException) -> str:
    for link in _chain(exc):
        if isinstance(link, ConnectionRefusedError):
            return "connection refused"
        if isinstance(link, TimeoutError) or "Timeout" in type(link).__name__:
            return "timed out"
        if "gaierror" in type(link).__name__ or "Name or service not known" in str(link):
            return "unknown host name"
    return "no connection"


@dataclass
class Store:
    """A datastore's root on some filesystem. Paths given to methods are relative and cleaned."""

    fs: AbstractFileSystem
    root: str
    label: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    local: bool = False

    def __post_init__(self) -> None:
        self.root = self.root.rstrip("/")

    # -- plumbing --------------------------------------------------------------------------------
    def full(self, path: str) -> str:
        rel = paths.clean_path(path)
        full = f"{self.root}/{rel}" if rel else self.root
        if self.local:
            self._check_local(full)
        return full

    def _check_local(self, full: str) -> None:
        """No symlinks on the way from the root to `full`, and nothing outside the root."""
        root = Path(self.root)
        target = Path(full)
        current = root
        for part in target.relative_to(root).parts:
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                break
            if stat.S_ISLNK(mode):
                raise ValidationError({"path": ["Symbolic links are not followed in datastores."]})
        real_root = os.path.realpath(root)
        real = os.path.realpath(target)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise ValidationError({"path": ["The path leads outside the datastore."]})

    def rel(self, full: str) -> str:
        full = full.rstrip("/")
        prefix = self.root + "/"
        if full == self.root:
            return ""
        if not full.startswith(prefix):
            # fsspec strips a leading "/" for some protocols; compare without it.
            stripped_root = self.root.lstrip("/") + "/"
            if full.lstrip("/").startswith(stripped_root):
                return full.lstrip("/")[len(stripped_root) :]
            raise StorageError(f"Unexpected path from {self.label}.")
        return full[len(prefix) :]

    @contextlib.contextmanager
    def errors(self, path: str = "") -> Iterator[None]:
        """Translate library exceptions into masked StorageErrors (no chained original)."""
        where = f"{self.label}/{path}".rstrip("/") if path else self.label
        try:
            yield
        except (StorageError, ValidationError):
            raise
        except FileNotFoundError as exc:
            raise StorageNotFound(mask(_describe(exc, where), self.secrets)) from None
        except Exception as exc:  # noqa: BLE001 - every library error becomes one masked message
            message = mask(_describe(exc, where), self.secrets)
            log.info("storage error: %s", message)
            raise StorageError(message) from None

    # -- reading ---------------------------------------------------------------------------------
    def _entry(self, info: dict[str, Any]) -> Entry | None:
        if info.get("islink"):
            return None
        rel = self.rel(info["name"])
        is_dir = info.get("type") == "directory"
        return Entry(
            name=paths.basename(rel),
            path=rel,
            is_dir=is_dir,
            size=None if is_dir else info.get("size"),
            modified=_modified(info),
        )

    def list_root(self) -> list[Entry]:
        """Used to validate a datastore on save: the container/bucket/folder must be listable."""
        if self.local:
            return self.ls("")
        top = self.root.split("/", 1)[0]
        try:
            with self.errors():
                infos = self.fs.ls(self.root, detail=True)
        except StorageNotFound:
            if self.root == top:
                raise StorageNotFound(f"The container or bucket '{top}' does not exist.") from None
            return []
        return [e for e in (self._entry(i) for i in infos) if e is not None and e.path]

    def ls(self, path: str = "") -> list[Entry]:
        full = self.full(path)
        with self.errors(path):
            if not self.fs.isdir(full):
                if self.fs.exists(full):
                    raise StorageError(f"{self.label}/{path} is a file, not a folder.")
                if path:
                    raise StorageNotFound(f"{self.label}/{path} was not found.")
                return []
            infos = self.fs.ls(full, detail=True)
        entries = [e for e in (self._entry(i) for i in infos) if e is not None and e.path and e.path != path]
        return sorted(entries, key=lambda e: (not e.is_dir, e.name.lower()))

    def info(self, path: str) -> Entry:
        full = self.full(path)
        with self.errors(path):
            info = self.fs.info(full)
        entry = self._entry(info) if path else Entry("", "", True)
        if entry is None:
            raise ValidationError({"path": ["Symbolic links are not followed in datastores."]})
        return entry

    def exists(self, path: str) -> bool:
        full = self.full(path)
        with self.errors(path):
            return bool(self.fs.exists(full))

    def isdir(self, path: str) -> bool:
        full = self.full(path)
        with self.errors(path):
            return bool(self.fs.isdir(full))

    def isfile(self, path: str) -> bool:
        full = self.full(path)
        with self.errors(path):
            return bool(self.fs.isfile(full))

    def walk_files(self, path: str = "", *, limit: int | None = None) -> Iterator[Entry]:
        """Every file under `path` (recursively), in name order, at most `limit`."""
        full = self.full(path)
        count = 0
        with self.errors(path):
            found = self.fs.find(full, detail=True, withdirs=False)
        for name in sorted(found):
            entry = self._entry(found[name])
            if entry is None or entry.is_dir:
                continue
            if self.local:
                try:
                    self._check_local(self.root + "/" + entry.path)
                except ValidationError:
                    continue
            yield entry
            count += 1
            if limit is not None and count >= limit:
                return

    def open_read(self, path: str) -> IO[bytes]:
        full = self.full(path)
        with self.errors(path):
            if self.fs.isdir(full):
                raise StorageError(f"{self.label}/{path} is a folder, not a file.")
            return self.fs.open(full, "rb", block_size=settings.STUDIO_STORAGE_BLOCK_SIZE, cache_type="readahead")

    def iter_bytes(self, path: str, chunk_size: int | None = None) -> Iterator[bytes]:
        """The file's bytes in chunks (a generator for StreamingHttpResponse)."""
        chunk_size = chunk_size or DOWNLOAD_CHUNK
        handle = self.open_read(path)
        try:
            while True:
                with self.errors(path):
                    chunk = handle.read(chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            handle.close()

    async def aiter_bytes(self, path: str, chunk_size: int | None = None):
        """The same as iter_bytes for ASGI servers: Django would otherwise collect a sync
        iterator into one list (the whole file in memory) before sending it."""
        from asgiref.sync import sync_to_async

        chunk_size = chunk_size or DOWNLOAD_CHUNK
        handle = await sync_to_async(self.open_read, thread_sensitive=False)(path)
        try:
            while True:
                chunk = await sync_to_async(self._read, thread_sensitive=False)(handle, path, chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            await sync_to_async(handle.close, thread_sensitive=False)()

    def _read(self, handle, path: str, size: int) -> bytes:
        with self.errors(path):
            return handle.read(size)

    # -- writing ---------------------------------------------------------------------------------
    def open_write(self, path: str) -> IO[bytes]:
        if not paths.clean_path(path):
            raise ValidationError({"path": ["Give the file a name."]})
        full = self.full(path)
        with self.errors(path):
            if self.fs.isdir(full):
                raise ValidationError({"path": [f"{path} is a folder."]})
            if self.local:
                os.makedirs(os.path.dirname(full), exist_ok=True)
                self._check_local(os.path.dirname(full))
            handle = self.fs.open(full, "wb", block_size=settings.STUDIO_STORAGE_BLOCK_SIZE)
        return handle if self.local else PipelinedWriter(handle, self, path)

    def write_stream(
        self, path: str, stream: IO[bytes] | Iterator[bytes], *, on_chunk=None, reserve: Reserve | None = None
    ) -> int:
        """Copy a readable stream (or an iterator of chunks) into `path`; returns bytes written.
        A member's write passes its `reserve` (datastores/reserve.py): refused below it, the
        half-written file is removed."""
        chunk_size = settings.STUDIO_STORAGE_BLOCK_SIZE
        chunks = stream if not hasattr(stream, "read") else iter(lambda: stream.read(chunk_size), b"")
        total = 0
        if reserve is not None:
            reserve.check()
        handle = self.open_write(path)
        ok = False
        try:
            for chunk in chunks:
                if not chunk:
                    continue
                if reserve is not None:
                    reserve.take(len(chunk))
                with self.errors(path):
                    handle.write(chunk)
                total += len(chunk)
                if on_chunk:
                    on_chunk(chunk)
            ok = True
        finally:
            with self.errors(path):
                if ok:
                    handle.close()
                else:
                    _discard(handle)
        return total

    def makedirs(self, path: str) -> None:
        full = self.full(path)
        with self.errors(path):
            self.fs.makedirs(full, exist_ok=True)

    def rm(self, path: str, *, recursive: bool = False) -> None:
        full = self.full(path)
        if full == self.root:
            raise ValidationError({"path": ["The datastore's root cannot be removed."]})
        with self.errors(path):
            if self.fs.exists(full):
                self.fs.rm(full, recursive=recursive)

    def move(self, src: str, dst: str) -> None:
        """Rename within the store (server-side copy on object stores)."""
        src_full, dst_full = self.full(src), self.full(dst)
        with self.errors(src):
            if self.local:
                os.makedirs(os.path.dirname(dst_full), exist_ok=True)
                os.replace(src_full, dst_full)
            elif self.fs.isfile(src_full):
                self.fs.copy(src_full, dst_full)
                self.fs.rm(src_full)
            else:
                # Object stores have no folders to rename: copy each object server-side, then delete.
                base = paths.clean_path(src)
                for entry in list(self.walk_files(base)):
                    rel = entry.path[len(base) :].lstrip("/")
                    self.fs.copy(self.full(entry.path), f"{dst_full}/{rel}")
                self.fs.rm(src_full, recursive=True)

    # -- copying to and from the local disk (job inputs and outputs) -----------------------------
    def download_file(self, path: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if self.local:
            full = self.full(path)
            shutil.copyfile(full, dest)
            return
        with dest.open("wb") as out:
            for chunk in self.iter_bytes(path):
                out.write(chunk)

    def download_folder(self, path: str, dest: Path) -> int:
        dest.mkdir(parents=True, exist_ok=True)
        base = paths.clean_path(path)
        count = 0
        for entry in self.walk_files(base):
            rel = entry.path[len(base) :].lstrip("/") if base else entry.path
            self.download_file(entry.path, dest / paths.clean_path(rel))
            count += 1
        return count

    def upload_file(self, src: Path, path: str) -> int:
        with src.open("rb") as handle:
            return self.write_stream(path, handle)


class PipelinedWriter:
    """Writes to an object store from a helper thread, so the next chunk of an upload is being
    received while the previous block is on its way to storage. At most `depth` chunks wait in
    between, which bounds memory (depth x chunk size, plus the library's one block)."""

    def __init__(self, handle, store: Store, path: str, depth: int = 2):
        import queue

        self.handle, self.store, self.path = handle, store, path
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="studio-upload", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            chunk = self.queue.get()
            if chunk is None:
                return
            if self.error is not None:
                continue
            try:
                self.handle.write(chunk)
            except BaseException as exc:  # noqa: BLE001 - handed to the writing thread below
                self.error = exc

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def write(self, chunk: bytes) -> int:
        self._raise()
        self.queue.put(bytes(chunk))
        return len(chunk)

    def _drain(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def close(self) -> None:
        self._drain()
        if self.error is not None:
            _discard(self.handle)
            self._raise()
        self.handle.close()

    def discard(self) -> None:
        self._drain()
        self.error = None
        _discard(self.handle)


def _discard(handle) -> None:
    """Abandon a half-written file: object stores abort the multipart upload, local files are removed."""
    discard = getattr(handle, "discard", None)
    # fsspec's local files write in place (autocommit) and refuse discard(): remove them below.
    if discard is not None and not getattr(handle, "autocommit", False):
        discard()
        return
    name = getattr(handle, "name", None)
    with contextlib.suppress(Exception):
        handle.close()
    if isinstance(name, str) and os.path.isfile(name):
        with contextlib.suppress(OSError):
            os.remove(name)


# -- building stores -------------------------------------------------------------------------------

# The SDKs' own retry policies are made for long transfers (Azure's waits 15 s, 18 s, ... between
# tries: 78 s before an unreachable account fails). Studio bounds them: a few quick tries in normal
# use, and a single short try when a new connection is checked (registering, editing), so an
# unreachable datastore is refused within seconds; the user can simply try again.
PROBE_CONNECT_SECONDS = 3
PROBE_READ_SECONDS = 4


@dataclass(frozen=True)
class Patience:
    """How long one storage call may wait and how often it is tried again."""

    connect: float
    read: float
    retries: int
    backoff: float

    @classmethod
    def for_use(cls, probe: bool) -> Patience:
        timeout = settings.STUDIO_STORAGE_TIMEOUT
        if probe:
            return cls(
                connect=min(timeout, PROBE_CONNECT_SECONDS), read=min(timeout, PROBE_READ_SECONDS), retries=0, backoff=0
            )
        return cls(connect=timeout, read=timeout * 6, retries=3, backoff=1)


def _bounded_blob_filesystem():
    """adlfs's AzureBlobFileSystem whose service client takes a bounded retry policy."""
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob.aio import BlobServiceClient, LinearRetry

    class BoundedBlobFileSystem(AzureBlobFileSystem):
        def __init__(self, *args, patience: Patience, **kwargs):
            self.patience = patience
            super().__init__(*args, **kwargs)

        def do_connect(self):
            policy = LinearRetry(
                backoff=self.patience.backoff, retry_total=self.patience.retries, random_jitter_range=0
            )
            self.service_client = BlobServiceClient.from_connection_string(
                conn_str=self.connection_string,
                retry_policy=policy,
                connection_timeout=self.patience.connect,
                read_timeout=self.patience.read,
            )

    return BoundedBlobFileSystem


def blob_endpoint(account_name: str, endpoint: str, protocol: str) -> str:
    """The container service URL: a DNS suffix (core.windows.net) or, for emulators and private
    endpoints, a full URL (http://127.0.0.1:10000/devstoreaccount1)."""
    endpoint = (endpoint or "core.windows.net").strip().rstrip("/")
    if endpoint.startswith(("http://", "https://")):
        return endpoint
    return f"{protocol or 'https'}://{account_name}.blob.{endpoint}"


@sensitive_variables("credentials", "connection_string")
def azure_store(
    *,
    account_name: str,
    container_name: str,
    endpoint: str,
    protocol: str,
    credentials: dict,
    label: str,
    prefix: str = "",
    probe: bool = False,
) -> Store:
    """`probe`: checking a new connection (short timeouts, one retry)."""
    url = blob_endpoint(account_name, endpoint, protocol)
    if credentials.get("account_key"):
        connection_string = (
            f"DefaultEndpointsProtocol={protocol or 'https'};AccountName={account_name};"
            f"AccountKey={credentials['account_key']};BlobEndpoint={url};"
        )
    elif credentials.get("sas_token"):
        connection_string = f"BlobEndpoint={url};SharedAccessSignature={credentials['sas_token'].lstrip('?')}"
    else:
        raise ValidationError({"credentials": ["Give an account key or a SAS token."]})
    patience = Patience.for_use(probe)
    fs = _bounded_blob_filesystem()(
        account_name=account_name,
        connection_string=connection_string,
        blocksize=settings.STUDIO_STORAGE_BLOCK_SIZE,
        assume_container_exists=True,
        use_listings_cache=False,
        connection_timeout=patience.connect,
        read_timeout=patience.read,
        skip_instance_cache=True,
        patience=patience,
    )
    root = "/".join(p for p in (container_name, paths.clean_path(prefix)) if p)
    return Store(fs=fs, root=root, label=label, secrets=_secret_values(credentials))


@sensitive_variables("credentials")
def s3_store(
    *, bucket: str, endpoint_url: str, region: str, credentials: dict, label: str, prefix: str = "", probe: bool = False
) -> Store:
    """`probe`: checking a new connection (short timeouts, one retry)."""
    from s3fs import S3FileSystem

    key, secret = credentials.get("access_key_id"), credentials.get("secret_access_key")
    if not key or not secret:
        raise ValidationError({"credentials": ["Give an access key id and a secret access key."]})
    patience = Patience.for_use(probe)
    fs = S3FileSystem(
        key=key,
        secret=secret,
        endpoint_url=endpoint_url or None,
        client_kwargs={"region_name": region or "us-east-1"},
        config_kwargs={
            "connect_timeout": patience.connect,
            "read_timeout": patience.read,
            "retries": {"total_max_attempts": patience.retries + 1, "mode": "standard"},
        },
        default_block_size=max(settings.STUDIO_STORAGE_BLOCK_SIZE, 5 * 2**20),
        use_listings_cache=False,
        skip_instance_cache=True,
    )
    if probe:
        fs.retries = 1  # s3fs tries timeouts again on its own, on top of botocore's retries
    root = "/".join(p for p in (bucket, paths.clean_path(prefix)) if p)
    return Store(fs=fs, root=root, label=label, secrets=_secret_values(credentials))


def local_store(folder: str | Path, *, label: str, create: bool = False) -> Store:
    from fsspec.implementations.local import LocalFileSystem

    folder = Path(folder)
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return Store(fs=LocalFileSystem(), root=os.path.realpath(folder), label=label, local=True)


def _secret_values(credentials: dict) -> tuple[str, ...]:
    values = [str(v) for v in credentials.values() if v]
    for value in list(values):
        match = re.search(r"sig=([^&]+)", value)
        if match:
            values.append(match.group(1))
    return tuple(values)


def builtin_backend() -> str:
    """'local' (folders under STUDIO_DATASTORES_ROOT), 's3' or 'azure_blob' (STUDIO_BUILTIN_STORE)."""
    url = settings.STUDIO_BUILTIN_STORE
    if not url:
        return "local"
    if url.startswith("s3://"):
        return "s3"
    if url.startswith(("az://", "abfs://")):
        return "azure_blob"
    raise ImproperlyConfigured("STUDIO_BUILTIN_STORE must start with s3:// or az://")


def builtin_location(workspace_key: str, name: str) -> str:
    """Where a built-in datastore lives, for showing on its page."""
    backend = builtin_backend()
    if backend == "local":
        return str(Path(settings.STUDIO_DATASTORES_ROOT) / workspace_key / name)
    return f"{settings.STUDIO_BUILTIN_STORE.rstrip('/')}/{workspace_key}/{name}"


def builtin_store(workspace_key: str, name: str) -> Store:
    """The store behind a workspace's built-in datastore: a folder by default, or a prefix of
    the object store configured with STUDIO_BUILTIN_STORE in production."""
    backend = builtin_backend()
    label = name
    if backend == "local":
        return local_store(Path(settings.STUDIO_DATASTORES_ROOT) / workspace_key / name, label=label, create=True)
    scheme, _, rest = settings.STUDIO_BUILTIN_STORE.partition("://")
    bucket, _, prefix = rest.partition("/")
    prefix = "/".join(p for p in (prefix.strip("/"), workspace_key, name) if p)
    if backend == "s3":
        return s3_store(
            bucket=bucket,
            endpoint_url=settings.STUDIO_BUILTIN_STORE_ENDPOINT,
            region=settings.STUDIO_BUILTIN_STORE_REGION,
            credentials={
                "access_key_id": settings.STUDIO_BUILTIN_STORE_KEY,
                "secret_access_key": settings.STUDIO_BUILTIN_STORE_SECRET,
            },
            label=label,
            prefix=prefix,
        )
    return azure_store(
        account_name=settings.STUDIO_BUILTIN_STORE_ACCOUNT,
        container_name=bucket,
        endpoint=settings.STUDIO_BUILTIN_STORE_ENDPOINT,
        protocol="https",
        credentials={"account_key": settings.STUDIO_BUILTIN_STORE_KEY}
        if settings.STUDIO_BUILTIN_STORE_KEY
        else {"sas_token": settings.STUDIO_BUILTIN_STORE_SECRET},
        label=label,
        prefix=prefix,
    )


def endpoint_problems(datastore: Datastore) -> dict[str, list[str]]:
    """What is wrong with a member's Azure `endpoint` / S3 `endpoint_url` (studio.netcheck): a
    query string (where a SAS token would sit in clear), or an address inside Studio's network."""
    from datastores.models import Datastore

    try:
        if datastore.type == Datastore.Type.AZURE_BLOB:
            endpoint = (datastore.endpoint or "core.windows.net").strip()
            if endpoint.startswith(("http://", "https://")):
                netcheck.check_url(endpoint, field="endpoint")
            elif not re.fullmatch(r"[A-Za-z0-9.-]+", endpoint):
                return {"endpoint": ["The endpoint is a DNS suffix such as core.windows.net, or a full https:// URL."]}
            else:
                host = f"{datastore.account_name}.blob.{endpoint}"
                if problem := netcheck.host_problem(host):
                    return {"endpoint": [problem]}
        elif datastore.type == Datastore.Type.S3 and datastore.endpoint_url:
            netcheck.check_url(datastore.endpoint_url, field="endpoint_url")
    except ValidationError as exc:
        return exc.message_dict
    return {}


def store_for(datastore: Datastore, *, probe: bool = False) -> Store:
    """The Store of a saved (or about-to-be-saved) datastore; `probe` when checking a new
    connection (short timeouts, one retry)."""
    from datastores.models import Datastore

    if datastore.builtin:
        return builtin_store(datastore.workspace_storage_key, datastore.name)
    # Checked again at every use: a name that resolved outside may resolve inside later.
    if problems := endpoint_problems(datastore):
        raise StorageError(" ".join(m for messages in problems.values() for m in messages))
    if datastore.type == Datastore.Type.LOCAL:
        return local_store(check_local_folder(datastore.path, datastore.workspace), label=datastore.name)
    if datastore.type == Datastore.Type.AZURE_BLOB:
        return azure_store(
            account_name=datastore.account_name,
            container_name=datastore.container_name,
            endpoint=datastore.endpoint,
            protocol=datastore.protocol,
            credentials=datastore.get_credentials(),
            label=datastore.name,
            probe=probe,
        )
    if datastore.type == Datastore.Type.S3:
        return s3_store(
            bucket=datastore.bucket,
            endpoint_url=datastore.endpoint_url,
            region=datastore.region,
            credentials=datastore.get_credentials(),
            label=datastore.name,
            probe=probe,
        )
    raise ValidationError({"type": [f"Unknown datastore type {datastore.type!r}."]})


def _inside(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep) or os.sep
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def studio_folders() -> dict[str, tuple[str, bool]]:
    """Studio's own folders (real paths) -> (what they hold, whether a datastore may be below it).
    No datastore is at or above any of them; the data and code folders may hold the allowed roots
    (the default root is <data dir>/folders), the others nothing."""
    named = {
        settings.DATA_DIR: ("Studio's own data", True),
        settings.BASE_DIR: ("Studio's code and settings", True),
        settings.STUDIO_DATASTORES_ROOT: ("the workspaces' built-in datastores", False),
        settings.STUDIO_JOBS_DIR: ("the jobs' working folders", False),
        settings.STUDIO_CODE_DIR: ("the workspaces' code snapshots", False),
        settings.STUDIO_ARTIFACTS_DIR: ("the jobs' outputs and logs", False),
        settings.STUDIO_ENV_DIR: ("the environments' builds", False),
        settings.STUDIO_UV_CACHE: ("Studio's package cache", False),
        settings.MEDIA_ROOT: ("Studio's uploads", False),
        settings.STATIC_ROOT: ("Studio's static files", False),
    }
    return {os.path.realpath(folder): value for folder, value in named.items()}


def workspace_areas(workspace) -> list[str]:
    """Where `workspace` may register local folders: `<root>/<workspace name>/` under each of
    STUDIO_LOCAL_DATASTORE_ROOTS, and anywhere under STUDIO_SHARED_DATASTORE_ROOTS."""
    areas = [os.path.join(os.path.realpath(root), workspace.name) for root in settings.STUDIO_LOCAL_DATASTORE_ROOTS]
    return areas + [os.path.realpath(root) for root in settings.STUDIO_SHARED_DATASTORE_ROOTS]


def check_local_folder(folder: str, workspace) -> str:
    """A local datastore's folder, resolved (symlinks and ..), must lie in one of `workspace`'s
    areas (see workspace_areas) and neither in nor above any of Studio's own folders. Checked at
    registration and again at every access, so a symlink swapped in later leads nowhere."""
    folder = (folder or "").strip()
    if not folder or not os.path.isabs(folder):
        raise ValidationError({"path": ["Give the folder's absolute path on the Studio server, e.g. /mnt/nfs/data."]})
    real = os.path.realpath(folder)
    for own, (what, below_ok) in studio_folders().items():
        if _inside(own, real) or (not below_ok and _inside(real, own)):
            raise ValidationError({"path": [f"That folder holds {what}."]})
    areas = workspace_areas(workspace)
    if not any(_inside(real, area) for area in areas):
        allowed = ", ".join(areas) or "(none configured)"
        raise ValidationError(
            {
                "path": [
                    f"Local datastores of workspace {workspace.name} must be inside a folder the administrator "
                    f"allowed for it: {allowed} (each allowed root holds one folder per workspace)."
                ]
            }
        )
    if not os.path.isdir(real):
        raise ValidationError({"path": [f"{folder} is not a folder on the Studio server."]})
    return real
