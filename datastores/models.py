"""Datastores (connections to storage) and data assets (versioned references to data in them)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from datastores.paths import DATASTORE_NAME, to_uri
from datastores.querysets import DatastoreQuerySet, DataVersionQuerySet
from studio import netcheck
from studio.crypto import decrypt_json, encrypt_json
from studio.querysets import WorkspaceScopedQuerySet
from studio.versioning import AssetUsage, AssetVersion

BUILTIN_DATASTORES = ("workspaceblobstore", "workspacefilestore", "workspaceartifactstore", "workspaceworkingdirectory")
DEFAULT_BUILTIN = "workspaceblobstore"

datastore_name_validator = RegexValidator(
    DATASTORE_NAME, "Use letters, digits and underscores (as Azure ML does), up to 255 characters."
)
asset_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", "Start with a letter or digit; then letters, digits, '.', '_' or '-'."
)


class Datastore(models.Model):
    """A named connection to storage in a workspace: a local/NFS folder, an Azure Blob container
    or an S3-compatible bucket. Built-in datastores (`builtin`) are made for every workspace and
    live where STUDIO_BUILTIN_STORE says (folders under STUDIO_DATASTORES_ROOT by default).

    Credentials are stored encrypted (`credentials_encrypted`) and are write-only: nothing shows
    them again; `get_credentials()` is for building the storage client only.
    """

    class Type(models.TextChoices):
        LOCAL = "local", "Local / NFS folder"
        AZURE_BLOB = "azure_blob", "Azure Blob container"
        S3 = "s3", "S3-compatible bucket"

    class CredentialsType(models.TextChoices):
        NONE = "none", "None"
        ACCOUNT_KEY = "account_key", "Account key"
        SAS = "sas", "SAS token"
        ACCESS_KEY = "access_key", "Access key"

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="datastores")
    name = models.CharField(max_length=255, validators=[datastore_name_validator])
    type = models.CharField(max_length=20, choices=Type.choices)
    builtin = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    description = models.TextField(blank=True, max_length=2000)
    tags = models.JSONField(default=dict, blank=True)
    # Where the data is (non-secret). Which fields apply depends on `type`.
    path = models.CharField(max_length=1024, blank=True, help_text="local: absolute folder on the Studio server")
    account_name = models.CharField(max_length=64, blank=True)
    container_name = models.CharField(max_length=63, blank=True)
    endpoint = models.CharField(max_length=255, blank=True, help_text="azure_blob: DNS suffix or full service URL")
    protocol = models.CharField(max_length=5, blank=True)
    bucket = models.CharField(max_length=63, blank=True)
    endpoint_url = models.CharField(max_length=255, blank=True, help_text="s3: service URL")
    region = models.CharField(max_length=40, blank=True)
    credentials_type = models.CharField(max_length=20, choices=CredentialsType.choices, default=CredentialsType.NONE)
    credentials_encrypted = models.TextField(blank=True, editable=False)
    credentials_updated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DatastoreQuerySet.as_manager()

    class Meta:
        ordering = ["-builtin", "name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="datastore_unique_name"),
            models.UniqueConstraint(
                fields=["workspace"], condition=models.Q(is_default=True), name="datastore_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("datastores:datastore_detail", args=[self.workspace.name, self.name])

    @property
    def workspace_storage_key(self) -> str:
        """The folder/prefix of this workspace's built-in datastores: name plus id, so a workspace
        created again under an old name never sees the old one's files."""
        return f"{self.workspace.name}-{self.workspace_id}"

    @property
    def effective_type(self) -> str:
        if self.builtin:
            from datastores.storage import builtin_backend

            return builtin_backend()
        return self.type

    def get_effective_type_display(self) -> str:
        return self.Type(self.effective_type).label

    @property
    def location(self) -> str:
        """Where the data lives, in words a user recognises (never with credentials)."""
        if self.builtin:
            from datastores.storage import builtin_location

            return builtin_location(self.workspace_storage_key, self.name)
        if self.type == self.Type.LOCAL:
            return self.path
        if self.type == self.Type.AZURE_BLOB:
            from datastores.storage import blob_endpoint

            url = blob_endpoint(self.account_name, netcheck.without_secrets(self.endpoint), self.protocol)
            return f"{url}/{self.container_name}"
        endpoint_url = netcheck.without_secrets(self.endpoint_url)
        return f"s3://{self.bucket}" + (f" at {endpoint_url}" if endpoint_url else "")

    def uri(self, path: str = "", *, folder: bool = False) -> str:
        return to_uri(self.name, path, folder=folder)

    def set_credentials(self, credentials: dict | None, kind: str) -> None:
        self.credentials_type = kind
        self.credentials_encrypted = encrypt_json(credentials) if credentials else ""
        self.credentials_updated_at = timezone.now()

    def get_credentials(self) -> dict:
        return decrypt_json(self.credentials_encrypted)


class DataAsset(models.Model):
    """A named data asset in a workspace; its content is in its immutable versions."""

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="data_assets")
    name = models.CharField(max_length=255, validators=[asset_name_validator])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="data_asset_unique_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("datastores:data_detail", args=[self.workspace.name, self.name])


class DataVersion(AssetVersion):
    """One immutable version of a data asset: a type and a path (`azureml://datastores/...` or
    an https URL). Only description and tags change after creation; archiving hides a version
    from `@latest` and from lists, and restoring brings it back."""

    class Type(models.TextChoices):
        URI_FILE = "uri_file", "File (uri_file)"
        URI_FOLDER = "uri_folder", "Folder (uri_folder)"
        MLTABLE = "mltable", "Table (mltable)"

    asset = models.ForeignKey(DataAsset, on_delete=models.CASCADE, related_name="versions")
    type = models.CharField(max_length=20, choices=Type.choices)
    path = models.CharField(max_length=2048, help_text="azureml://datastores/<name>/paths/<path> or https://…")
    datastore = models.ForeignKey(
        Datastore, null=True, blank=True, on_delete=models.PROTECT, related_name="data_versions"
    )
    datastore_path = models.CharField(max_length=1024, blank=True)
    description = models.TextField(blank=True, max_length=4000)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    file_count = models.IntegerField(null=True, blank=True)

    objects = DataVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["asset", "version"], name="data_version_unique")]

    def get_absolute_url(self) -> str:
        return (
            reverse("datastores:data_detail", args=[self.workspace.name, self.asset.name]) + f"?version={self.version}"
        )

    @property
    def is_folder(self) -> bool:
        return self.type != self.Type.URI_FILE

    @property
    def browse_path(self) -> str:
        """The datastore folder to open for this version (a file's folder)."""
        if self.is_folder:
            return self.datastore_path
        return self.datastore_path.rsplit("/", 1)[0] if "/" in self.datastore_path else ""


class DataUsage(AssetUsage):
    """Lineage: a job read this data version as an input, or wrote it as an output."""

    version = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="usages")

    class Meta(AssetUsage.Meta):
        constraints = [
            models.UniqueConstraint(fields=["version", "job_name", "direction", "port"], name="data_usage_unique")
        ]
