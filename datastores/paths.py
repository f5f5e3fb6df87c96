"""Paths inside a datastore, and the URIs that point at them.

Every path a user gives (browse, upload, download, asset paths, job inputs and outputs) goes
through `clean_path` first: it is relative to the datastore's root, uses "/", and can never climb
out of it. Local stores add a symlink check on top (see storage.LocalStore).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from studio.paths import clean_relative_path

DATASTORE_NAME = re.compile(r"^[A-Za-z0-9_]{1,255}$")
AZUREML_URI = re.compile(r"^azureml://datastores/(?P<datastore>[^/]+)/paths/?(?P<path>.*)$")


def clean_path(path: str | None, *, field: str = "path") -> str:
    """A safe relative path inside a datastore ("a/b/c", or "" for the root)."""
    return clean_relative_path(path, field=field)


def join(base: str, name: str, *, field: str = "path") -> str:
    """`base` + a relative `name` (both cleaned)."""
    return "/".join(p for p in (clean_path(base, field=field), clean_path(name, field=field)) if p)


def parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class DatastoreUri:
    """`azureml://datastores/<datastore>/paths/<path>`; `folder` when it ends with "/"."""

    datastore: str
    path: str
    folder: bool = False

    def __str__(self) -> str:
        return to_uri(self.datastore, self.path, folder=self.folder)


def to_uri(datastore: str, path: str, *, folder: bool = False) -> str:
    path = path.strip("/")
    suffix = "/" if folder and path else ""
    return f"azureml://datastores/{datastore}/paths/{path}{suffix}"


def parse_uri(uri: str, *, field: str = "path") -> DatastoreUri:
    match = AZUREML_URI.match((uri or "").strip())
    if not match:
        raise ValidationError(
            {field: [f"{uri!r} is not a datastore URI: use azureml://datastores/<name>/paths/<path>."]}
        )
    name = match["datastore"]
    if not DATASTORE_NAME.match(name):
        raise ValidationError({field: [f"{name!r} is not a datastore name."]})
    raw = match["path"]
    return DatastoreUri(name, clean_path(raw, field=field), folder=raw.endswith("/") or raw == "")
