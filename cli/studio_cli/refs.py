"""Asset references as Azure ML writes them: `name`, `name:3`, `name@latest`, each optionally
prefixed `azureml:`. Used by `show` commands; job specs pass references through untouched."""

from __future__ import annotations

from dataclasses import dataclass

from studio_cli.errors import CLIError


@dataclass
class AssetRef:
    name: str
    version: str | None = None  # a number, or "latest"

    @property
    def version_or_latest(self) -> str:
        return self.version or "latest"


def is_remote(value: str) -> bool:
    """Whether a path or reference in a YAML points at something already on the server or online
    (so it is passed through, not read from the local disk)."""
    return str(value).startswith(("azureml:", "azureml://", "http://", "https://", "wasbs://", "abfss://", "s3://"))


def parse_ref(text: str, *, version: str | None = None, label: str | None = None) -> AssetRef:
    raw = text[len("azureml:") :] if text.startswith("azureml:") else text
    if raw.startswith("/") or not raw:
        raise CLIError(f"{text!r} is not an asset reference: use name, name:version or name@latest.")
    name, ref_version = raw, None
    if "@" in raw:
        name, ref_label = raw.split("@", 1)
        if ref_label != "latest":
            raise CLIError(f"{text!r}: the only label is 'latest'.")
        ref_version = "latest"
    elif ":" in raw:
        name, ref_version = raw.split(":", 1)
    if version and label:
        raise CLIError("Give --version or --label, not both.")
    if label and label != "latest":
        raise CLIError("The only label is 'latest'.")
    return AssetRef(name=name, version=version or ("latest" if label else None) or ref_version)
