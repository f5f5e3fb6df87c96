"""Forms of the datastore and data pages. Secret fields never render a value back."""

from __future__ import annotations

from django import forms

from datastores.models import Datastore, DataVersion
from studio.forms import TagsField

SECRET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"})


class DatastoreForm(forms.Form):
    """Register (all fields) or edit (connection + replace credentials) a datastore. It only
    collects values: datastores.spec.DatastoreSpec checks them in the API's and YAML files' words,
    and the service checks which connection fields apply to the type."""

    name = forms.CharField(help_text="Letters, digits and underscores, e.g. training_data.")
    type = forms.ChoiceField(
        choices=Datastore.Type.choices, initial=Datastore.Type.AZURE_BLOB, widget=forms.RadioSelect
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    tags = TagsField()
    # local
    path = forms.CharField(
        required=False, label="Folder", help_text="Absolute path on the Studio server (an NFS mount, for instance)."
    )
    # azure_blob
    account_name = forms.CharField(required=False, label="Storage account name")
    container_name = forms.CharField(required=False, label="Blob container")
    endpoint = forms.CharField(
        required=False,
        initial="core.windows.net",
        help_text="core.windows.net, or the full service URL of an emulator or private endpoint.",
    )
    protocol = forms.ChoiceField(choices=[("https", "https"), ("http", "http")], initial="https", required=False)
    credential_kind = forms.ChoiceField(
        choices=[("account_key", "Account key"), ("sas", "SAS token")],
        initial="account_key",
        required=False,
        widget=forms.RadioSelect,
        label="Authentication",
    )
    account_key = forms.CharField(required=False, widget=SECRET, label="Account key")
    sas_token = forms.CharField(required=False, widget=SECRET, label="SAS token")
    # s3
    endpoint_url = forms.CharField(
        required=False, label="Endpoint URL", help_text="Leave empty for AWS; e.g. https://minio.example.com."
    )
    bucket = forms.CharField(required=False)
    region = forms.CharField(required=False, help_text="us-east-1 when empty.")
    access_key_id = forms.CharField(required=False, widget=SECRET, label="Access key ID")
    secret_access_key = forms.CharField(required=False, widget=SECRET, label="Secret access key")
    replace_credentials = forms.BooleanField(required=False, label="Replace the stored credentials")

    def __init__(self, *args, datastore: Datastore | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.datastore = datastore
        if datastore is not None:
            for field in ("name", "type"):
                self.fields[field].disabled = True
                self.fields[field].required = False
            self.fields["name"].help_text = "A datastore's name and type do not change."
        else:
            del self.fields["replace_credentials"]

    @property
    def kind(self) -> str:
        if self.datastore is not None:
            return self.datastore.type
        return self.data.get("type") or self.initial.get("type") or self.fields["type"].initial

    def credentials(self) -> dict | None:
        """The credentials to store, or None to keep the current ones (edit without replacing)."""
        data = self.cleaned_data
        if self.datastore is not None and not data.get("replace_credentials"):
            return None
        kind = self.kind
        if kind == Datastore.Type.AZURE_BLOB:
            if data.get("credential_kind") == "sas":
                return {"sas_token": data.get("sas_token", "")}
            return {"account_key": data.get("account_key", "")}
        if kind == Datastore.Type.S3:
            return {
                "access_key_id": data.get("access_key_id", ""),
                "secret_access_key": data.get("secret_access_key", ""),
            }
        return {}

    def connection(self) -> dict:
        from datastores.services import CONNECTION_FIELDS

        return {f: self.cleaned_data.get(f, "") for f in CONNECTION_FIELDS[self.kind]}


class DataForm(forms.Form):
    """Create a data asset version from a datastore path, local files or a web URL."""

    SOURCES = [("upload", "Local files"), ("datastore", "Datastore path"), ("url", "Web URL")]

    name = forms.CharField(max_length=255, help_text="e.g. titanic. Letters, digits, '.', '_' and '-'.")
    version = forms.CharField(required=False, max_length=30, help_text="Leave empty for the next number.")
    type = forms.ChoiceField(choices=DataVersion.Type.choices, initial=DataVersion.Type.URI_FILE)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
    tags = TagsField()
    source = forms.ChoiceField(choices=SOURCES, initial="upload", widget=forms.RadioSelect, label="Data source")
    datastore = forms.ChoiceField(required=False, choices=[])
    datastore_path = forms.CharField(
        required=False, label="Path in the datastore", help_text="e.g. raw/2024/titanic.csv"
    )
    url = forms.CharField(required=False, label="URL", help_text="https://…")

    def __init__(self, *args, datastores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["datastore"].choices = [(d.name, d.name) for d in datastores]

    def path(self) -> str:
        data = self.cleaned_data
        if data.get("source") == "url":
            return (data.get("url") or "").strip()
        if data.get("source") == "datastore":
            from datastores.paths import to_uri

            if not data.get("datastore"):
                return ""
            folder = data.get("type") != DataVersion.Type.URI_FILE
            return to_uri(data["datastore"], (data.get("datastore_path") or "").strip(), folder=folder)
        return ""


class DataYamlForm(forms.Form):
    yaml = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "mono"}),
        label="Data YAML",
        help_text="An Azure ML CLI v2 data file: name, version, type, path, description, tags.",
    )


class DataEditForm(forms.Form):
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
    tags = TagsField()
