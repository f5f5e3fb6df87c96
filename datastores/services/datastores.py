"""State changes of datastores: one function each. Data assets are in `data.py` beside this module.

Storage is checked (by listing) before the database transaction opens, so a slow or failing
storage service never holds a transaction; nothing is saved when the check fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from datastores.immutable import check_not_protected
from datastores.models import BUILTIN_DATASTORES, DEFAULT_BUILTIN, Datastore
from datastores.paths import DATASTORE_NAME
from datastores.storage import StorageError, check_local_folder, endpoint_problems, store_for
from studio import activity
from studio.actor import Actor
from studio.errors import Conflict
from studio.models import Workspace
from studio.tags import clean_tags

# Azure's rule for storage account names. Anything else became a host name that does not resolve,
# reported on Endpoint, a field the user had not touched.
ACCOUNT_NAME = re.compile(r"[a-z0-9]+")

CONNECTION_FIELDS: dict[str, tuple[str, ...]] = {
    Datastore.Type.LOCAL: ("path",),
    Datastore.Type.AZURE_BLOB: ("account_name", "container_name", "endpoint", "protocol"),
    Datastore.Type.S3: ("bucket", "endpoint_url", "region"),
}
ALL_CONNECTION_FIELDS = tuple(sorted({f for fields in CONNECTION_FIELDS.values() for f in fields}))
CREDENTIAL_KEYS = {"account_key", "sas_token", "access_key_id", "secret_access_key"}


@sensitive_variables("credentials")
def clean_credentials(kind: str, credentials: Any) -> tuple[str, dict[str, str]]:
    """Which credentials a datastore type takes: (credentials_type, the secret values)."""
    if credentials in (None, ""):
        credentials = {}
    if not isinstance(credentials, dict):
        raise ValidationError({"credentials": ["Credentials are a mapping, e.g. {account_key: ...}."]})
    unknown = set(credentials) - CREDENTIAL_KEYS
    if unknown:
        raise ValidationError({"credentials": [f"Unknown credential field(s): {', '.join(sorted(unknown))}."]})
    values = {k: str(v).strip() for k, v in credentials.items() if v not in (None, "") and str(v).strip()}
    if kind == Datastore.Type.LOCAL:
        if values:
            raise ValidationError({"credentials": ["Local folders take no credentials."]})
        return Datastore.CredentialsType.NONE, {}
    if kind == Datastore.Type.AZURE_BLOB:
        if "access_key_id" in values or "secret_access_key" in values:
            raise ValidationError({"credentials": ["Azure Blob takes an account_key or a sas_token."]})
        if ("account_key" in values) == ("sas_token" in values):
            raise ValidationError({"credentials": ["Give exactly one of an account key or a SAS token."]})
        if "account_key" in values:
            return Datastore.CredentialsType.ACCOUNT_KEY, {"account_key": values["account_key"]}
        return Datastore.CredentialsType.SAS, {"sas_token": values["sas_token"].lstrip("?")}
    if kind == Datastore.Type.S3:
        if not {"access_key_id", "secret_access_key"} <= set(values) or set(values) - {
            "access_key_id",
            "secret_access_key",
        }:
            raise ValidationError({"credentials": ["Give an access_key_id and a secret_access_key."]})
        return Datastore.CredentialsType.ACCESS_KEY, values
    raise ValidationError({"type": [f"Unknown datastore type {kind!r}."]})


def _apply_connection(datastore: Datastore, values: dict[str, Any]) -> list[str]:
    """Set the type's connection fields from `values`; returns the names of those that changed."""
    changed = []
    allowed = CONNECTION_FIELDS[datastore.type]
    stray = [f for f in ALL_CONNECTION_FIELDS if f not in allowed and values.get(f) not in (None, "")]
    if stray:
        raise ValidationError({stray[0]: [f"{stray[0]} does not apply to {datastore.get_type_display()}."]})
    for field in allowed:
        if field in values and values[field] is not None:
            value = str(values[field]).strip()
            if value != getattr(datastore, field):
                setattr(datastore, field, value)
                changed.append(field)
    errors: dict[str, list[str]] = {}
    if datastore.type == Datastore.Type.LOCAL:
        try:
            check_local_folder(datastore.path, datastore.workspace)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif datastore.type == Datastore.Type.AZURE_BLOB:
        datastore.protocol = datastore.protocol or "https"
        datastore.endpoint = datastore.endpoint or "core.windows.net"
        if datastore.protocol not in ("https", "http"):
            errors["protocol"] = ["Protocol is https (or http for an emulator)."]
        if not datastore.account_name:
            errors["account_name"] = ["Give the storage account's name."]
        elif not ACCOUNT_NAME.fullmatch(datastore.account_name):
            errors["account_name"] = [
                "A storage account name has only lowercase letters and digits (as in its URL), e.g. mystorageacct."
            ]
        if not datastore.container_name:
            errors["container_name"] = ["Give the blob container's name."]
    elif datastore.type == Datastore.Type.S3:
        if not datastore.bucket:
            errors["bucket"] = ["Give the bucket's name."]
        if datastore.endpoint_url and not datastore.endpoint_url.startswith(("http://", "https://")):
            errors["endpoint_url"] = ["The endpoint is a URL such as https://s3.example.com."]
    if not errors:
        errors.update(endpoint_problems(datastore))
    if errors:
        raise ValidationError(errors)
    return changed


def _check_storage(datastore: Datastore) -> None:
    """Validate a connection by listing its container/bucket/folder; the error goes to the user."""
    try:
        store_for(datastore, probe=True).list_root()
    except StorageError as exc:
        raise ValidationError({"__all__": [f"Studio could not list the storage: {exc}"]}) from None


class _Problems:
    """Errors of several independent checks, raised together so a form is fixed in one round
    rather than one check at a time. A Conflict (409) only when every problem is one."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.conflicts_only = True

    @contextmanager
    def collect(self) -> Iterator[None]:
        try:
            yield
        except ValidationError as exc:
            self.conflicts_only &= isinstance(exc, Conflict)
            found = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
            for field, messages in found.items():
                self.errors.setdefault(field, []).extend(m for m in messages if m not in self.errors.get(field, []))

    def touch(self, fields: Iterable[str]) -> bool:
        return any(field in self.errors for field in fields)

    def raise_any(self) -> None:
        if self.errors:
            raise (Conflict if self.conflicts_only else ValidationError)(self.errors)


@sensitive_variables("credentials", "secret")
def _check_connection(datastore: Datastore, connection: dict[str, Any], credentials: Any, problems: _Problems) -> None:
    """Set a new datastore's connection fields and credentials, noting their problems, and list the
    storage when they hold: the listing needs nothing else (not a valid name, tags or description)."""
    with problems.collect():
        _apply_connection(datastore, connection)
    with problems.collect():
        kind, secret = clean_credentials(datastore.type, credentials)
        datastore.set_credentials(secret, kind)
    with problems.collect():
        datastore.full_clean(exclude=["workspace", "created_by", *problems.errors], validate_constraints=False)
    if not problems.touch((*CONNECTION_FIELDS[datastore.type], "credentials", "credentials_type", NON_FIELD_ERRORS)):
        with problems.collect():
            _check_storage(datastore)


@sensitive_variables("credentials")
def connection_problems(
    workspace: Workspace, *, type: str, credentials: dict | None = None, **connection: Any
) -> dict[str, list[str]]:
    """What is wrong with a new datastore's connection and credentials, the listing included, by
    field. For a form whose other fields failed its own checks: it still reports these at once."""
    if type not in Datastore.Type.values:
        return {}
    problems = _Problems()
    _check_connection(Datastore(workspace=workspace, type=type), connection, credentials, problems)
    # The draft has no name or tags of its own: only what concerns the connection is reported.
    wanted = {*CONNECTION_FIELDS[type], "credentials", NON_FIELD_ERRORS}
    return {field: messages for field, messages in problems.errors.items() if field in wanted}


def _check_new_name(workspace: Workspace, name: str) -> None:
    if not DATASTORE_NAME.match(name):
        raise ValidationError({"name": ["Use letters, digits and underscores (as Azure ML does)."]})
    if name.lower() == "new":
        raise ValidationError({"name": ["'new' is reserved; choose another name."]})
    if name.lower() in BUILTIN_DATASTORES:
        raise Conflict({"name": [f"{name} is the name of a built-in datastore."]})
    if Datastore.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise Conflict({"name": [f"A datastore named {name!r} already exists in {workspace.name}."]})


@sensitive_variables("credentials", "secret")
def do_register_datastore(
    workspace: Workspace,
    *,
    actor: Actor,
    name: str,
    type: str,
    description: str = "",
    tags: dict | None = None,
    credentials: dict | None = None,
    **connection: Any,
) -> Datastore:
    """Register a datastore after checking that Studio can list it with the given credentials.
    Every problem is reported at once: the name's, the connection's and the credentials' and, when
    the connection and credentials hold, the listing's (even if the name is wrong)."""
    name = (name or "").strip()
    if type not in Datastore.Type.values:
        raise ValidationError({"type": [f"Choose one of: {', '.join(Datastore.Type.values)}."]})
    unknown = set(connection) - set(ALL_CONNECTION_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["Unknown field."]})
    problems = _Problems()
    with problems.collect():
        _check_new_name(workspace, name)
    datastore = Datastore(
        workspace=workspace,
        name=name,
        type=type,
        description=(description or "").strip(),
        created_by=actor,
    )
    with problems.collect():
        datastore.tags = clean_tags(tags)
    _check_connection(datastore, connection, credentials, problems)
    problems.raise_any()
    try:
        with transaction.atomic():
            datastore.save()
            activity.record(workspace, actor, "datastore.registered", name, type=datastore.get_type_display())
    except IntegrityError:
        raise Conflict({"name": [f"A datastore named {name!r} already exists in {workspace.name}."]}) from None
    return datastore


@sensitive_variables("credentials", "secret")
def do_update_datastore(
    datastore: Datastore,
    *,
    actor: Actor,
    description: str | None = None,
    tags: dict | None = None,
    credentials: dict | None = None,
    **connection: Any,
) -> Datastore:
    """Change a datastore's description, tags, connection or credentials ("replace credentials":
    they are never shown, only replaced). A changed connection is checked by listing first."""
    datastore = Datastore.objects.get(pk=datastore.pk)
    unknown = set(connection) - set(ALL_CONNECTION_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["Unknown field."]})
    given = {k: v for k, v in connection.items() if v is not None}
    if datastore.builtin and (given or credentials):
        raise Conflict({"__all__": ["Built-in datastores keep their storage; only description and tags change."]})
    problems = _Problems()
    changed: list[str] = []
    if description is not None and description.strip() != datastore.description:
        datastore.description = description.strip()
        changed.append("description")
    if tags is not None:
        with problems.collect():
            cleaned = clean_tags(tags)
            if cleaned != datastore.tags:
                datastore.tags = cleaned
                changed.append("tags")
    connection_changed: list[str] = []
    if given:
        with problems.collect():
            connection_changed = _apply_connection(datastore, given)
    replaced = bool(credentials)
    if replaced:
        with problems.collect():
            kind, secret = clean_credentials(datastore.type, credentials)
            datastore.set_credentials(secret, kind)
    changed += connection_changed + (["credentials"] if replaced else [])
    if not changed and not problems.errors:
        return datastore
    with problems.collect():
        datastore.full_clean(exclude=["workspace", "created_by", *problems.errors], validate_constraints=False)
    # The listing needs only the connection and credentials: it runs beside a bad tag, not after.
    if (connection_changed or replaced) and not problems.touch(
        (*CONNECTION_FIELDS[datastore.type], "credentials", NON_FIELD_ERRORS)
    ):
        with problems.collect():
            _check_storage(datastore)
    problems.raise_any()
    with transaction.atomic():
        datastore.save()
        activity.record(datastore.workspace, actor, "datastore.updated", datastore.name, fields=changed)
    return datastore


@transaction.atomic
def do_set_default_datastore(datastore: Datastore, *, actor: Actor) -> Datastore:
    """Make `datastore` the workspace's default (where uploads and job outputs go unless told)."""
    if datastore.is_default:
        return datastore
    Datastore.objects.select_for_update().filter(workspace=datastore.workspace).defaults().update(is_default=False)
    Datastore.objects.filter(pk=datastore.pk).update(is_default=True, updated_at=timezone.now())
    datastore.is_default = True
    activity.record(datastore.workspace, actor, "datastore.default_set", datastore.name)
    return datastore


@transaction.atomic
def do_delete_datastore(datastore: Datastore, *, actor: Actor) -> None:
    """Forget a datastore (its data stays where it is). Built-in, default and in-use datastores stay."""
    if datastore.builtin:
        raise Conflict({"__all__": ["Built-in datastores cannot be removed."]})
    if datastore.is_default:
        raise Conflict({"__all__": ["Make another datastore the default before removing this one."]})
    used = list(datastore.data_versions.select_related("asset").order_by("asset__name", "version")[:5])
    if used:
        names = ", ".join(v.reference for v in used)
        raise Conflict(
            {"__all__": [f"Data assets point into this datastore ({names}). Archive is not enough: move them first."]}
        )
    name, workspace = datastore.name, datastore.workspace
    datastore.delete()
    activity.record(workspace, actor, "datastore.deleted", name)


def create_builtin_datastores(workspace: Workspace, actor: Actor | None = None) -> list[Datastore]:
    """The four datastores every workspace has (idempotent); workspaceblobstore is the default."""
    from datastores.storage import builtin_backend

    backend = builtin_backend()
    made = []
    has_default = Datastore.objects.filter(workspace=workspace).defaults().exists()
    for name in BUILTIN_DATASTORES:
        datastore, created = Datastore.objects.get_or_create(
            workspace=workspace,
            name=name,
            defaults={
                "type": backend,
                "builtin": True,
                "is_default": name == DEFAULT_BUILTIN and not has_default,
                "description": BUILTIN_DESCRIPTIONS[name],
                "created_by": actor if actor is not None and actor.is_authenticated else None,
            },
        )
        if created:
            made.append(datastore)
    return made


BUILTIN_DESCRIPTIONS = {
    "workspaceblobstore": "The workspace's default store: uploads, data assets and job outputs.",
    "workspacefilestore": "Shared files of the workspace.",
    "workspaceartifactstore": "Artifacts of jobs: code snapshots, logs and outputs.",
    "workspaceworkingdirectory": "Working files (notebooks, scripts) of the workspace's members.",
}


def do_record_upload(datastore: Datastore, *, actor: Actor, folder: str, files: int, size: int) -> None:
    """Uploads write straight into storage as they stream (uploads.py); this records the event."""
    activity.record(
        datastore.workspace, actor, "datastore.uploaded", datastore.name, folder=folder or "/", files=files, size=size
    )


def do_delete_path(datastore: Datastore, path: str, *, actor: Actor) -> None:
    """Delete a file or folder in a datastore (not its root)."""
    from datastores.paths import clean_path

    path = clean_path(path)
    if not path:
        raise ValidationError({"path": ["The datastore's root cannot be deleted."]})
    check_not_protected(datastore, path)
    store = store_for(datastore)
    try:
        store.rm(path, recursive=True)
    except StorageError as exc:
        raise ValidationError({"path": [str(exc)]}) from None
    activity.record(datastore.workspace, actor, "datastore.path_deleted", datastore.name, path=path)
