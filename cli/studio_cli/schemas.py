"""The keys of Azure ML CLI v2 YAML files that Studio accepts, per asset type.

The server's schema of each asset is the one list: it is read from the server's OpenAPI document
(`/api/schema/`, the `components.schemas` the API's bodies are described with), kept on disk per
server in the user's cache folder with its ETag, and asked for again with If-None-Match on each use
(a 304 when the server has not changed). Keys Azure knows but Studio does not use (e.g.
`identity`) are in that document too: the server accepts and reports them. Anything else is a typo
the CLI reports with its line before sending.

The assets whose server schema is not yet in the document keep a list here (below), until their
app describes its body with one schema.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from studio_cli.client import Client
from studio_cli.errors import CLIError

# Asset -> the name of its schema in the OpenAPI document's components.
COMPUTE = "ComputeSpec"
ENVIRONMENT = "EnvironmentSpec"
DATA = "DataSpec"
MODEL = "ModelSpec"
JOB = "CommandJobSpec"  # its inputs/outputs entries and limits are described inside it

# keys(component, *path): the keys of a mapping, from the server (see `keys` below); None when
# the server's document does not describe it.
Keys = Callable[..., "set[str] | None"]

SCHEMA_PATH = "/api/schema/"
OPENAPI_JSON = "application/vnd.oai.openapi+json"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "studio"


def cache_file(url: str) -> Path:
    return cache_dir() / f"openapi-{hashlib.sha256(url.rstrip('/').encode()).hexdigest()[:16]}.json"


def document(client: Client) -> dict:
    """The server's OpenAPI document: the cached copy if the server says it is current (304),
    else the new one (stored with its ETag)."""
    cached = getattr(client, "_openapi", None)
    if cached is not None:
        return cached
    path = cache_file(client.url)
    stored: dict[str, Any] = {}
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    headers = {"Accept": OPENAPI_JSON}
    if stored.get("etag") and isinstance(stored.get("document"), dict):
        headers["If-None-Match"] = stored["etag"]
    response = client.raw("GET", client.url + SCHEMA_PATH, headers=headers)
    if response.status_code == 304:
        doc = stored["document"]
    else:
        try:
            doc = response.json()
        except ValueError:
            raise CLIError(f"{client.url}{SCHEMA_PATH} answered with something that is not an OpenAPI document.")
        if not isinstance(doc, dict):
            raise CLIError(f"{client.url}{SCHEMA_PATH} answered with something that is not an OpenAPI document.")
        if response.headers.get("ETag"):
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                path.write_text(json.dumps({"etag": response.headers["ETag"], "document": doc}), encoding="utf-8")
            except OSError:
                pass  # a read-only home: the next run asks again
    client._openapi = doc  # type: ignore[attr-defined]
    return doc


def _resolve(doc: dict, node: dict) -> dict:
    """Follow `$ref` (and a one-item `allOf`, as drf-spectacular writes a described $ref)."""
    for _ in range(16):
        if "$ref" in node:
            node = doc.get("components", {}).get("schemas", {}).get(node["$ref"].rsplit("/", 1)[-1], {})
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            break
    return node


def for_server(client: Client) -> Keys:
    """`keys` bound to one server."""
    return partial(keys, client)


def keys(client: Client, component: str, *path: str) -> set[str] | None:
    """The keys a mapping of the asset may hold: the component's own (no `path`) or those of the
    mapping at `path` inside it ("*" stands for any entry of a name -> entry mapping). None when
    the server's document does not describe it (the server still checks what it is sent)."""
    doc = document(client)
    node = doc.get("components", {}).get("schemas", {}).get(component)
    if not isinstance(node, dict):
        return None
    node = _resolve(doc, node)
    for part in path:
        if part == "*":
            inner = node.get("additionalProperties")
        else:
            inner = node.get("properties", {}).get(part)
        if not isinstance(inner, dict):
            return None
        node = _resolve(doc, inner)
    properties = node.get("properties")
    return set(properties) if isinstance(properties, dict) else None


# Not yet described by the server (see the module docstring).
COMMON = {"name", "version", "description", "tags", "properties"}
# A sweep job (sweepJob.schema.json); the server checks the search space, objective and limits.
SWEEP = {
    "type",
    "name",
    "display_name",
    "experiment_name",
    "description",
    "tags",
    "properties",
    "trial",
    "compute",
    "inputs",
    "outputs",
    "search_space",
    "sampling_algorithm",
    "objective",
    "limits",
    "early_termination",
    "identity",
    "queue_settings",
    "status",
}
SWEEP_TRIAL = {"type", "code", "command", "environment", "environment_variables", "resources"}
DATASTORE = {
    "name",
    "type",
    "description",
    "tags",
    "properties",
    "account_name",
    "container_name",
    "file_share_name",
    "filesystem",
    "store_name",
    "endpoint",
    "protocol",
    "credentials",
    "path",
    "bucket",
    "endpoint_url",
    "region",
    "stage",
    "auto_delete_setting",
}

# managedOnlineEndpoint (Azure's keys; identity, kind, public_network_access: accepted, not used)
ONLINE_ENDPOINT = {
    "name",
    "description",
    "tags",
    "properties",
    "auth_mode",
    "traffic",
    "mirror_traffic",
    "identity",
    "kind",
    "public_network_access",
    "compute",
}
# managedOnlineDeployment / kubernetesOnlineDeployment
ONLINE_DEPLOYMENT = {
    "name",
    "endpoint_name",
    "description",
    "tags",
    "properties",
    "type",
    "model",
    "code_configuration",
    "environment",
    "instance_type",
    "instance_count",
    "compute",  # Studio's: the compute target whose nodes run the instances (Azure puts it on the endpoint)
    "environment_variables",
    "request_settings",
    "liveness_probe",
    "readiness_probe",
    "scale_settings",
    "app_insights_enabled",
    "egress_public_network_access",
    "data_collector",
    "model_mount_path",
    "resources",
}
DEPLOYMENT_CODE = {"code", "scoring_script"}
DEPLOYMENT_MODEL = {"name", "version", "path", "type", "description", "tags"}
# A command component (commandComponent.schema.json).
COMPONENT = COMMON | {
    "display_name",
    "type",
    "inputs",
    "outputs",
    "code",
    "environment",
    "command",
    "is_deterministic",
    "environment_variables",
    "resources",
    "distribution",
    "additional_includes",
}
# A pipeline job (pipelineJob.schema.json) and its steps; the server checks bindings and types.
PIPELINE = {
    "type",
    "name",
    "display_name",
    "experiment_name",
    "description",
    "tags",
    "properties",
    "compute",
    "inputs",
    "outputs",
    "settings",
    "jobs",
    "identity",
    "status",
}
PIPELINE_STEP = {
    "type",
    "component",
    "inputs",
    "outputs",
    "compute",
    "environment_variables",
    "display_name",
    "description",
    "tags",
    "command",
    "code",
    "environment",
    "is_deterministic",
    "properties",
    "resources",
    "distribution",
    "limits",
    "identity",
    "services",
    "queue_settings",
    # a `type: sweep` step
    "trial",
    "search_space",
    "objective",
    "sampling_algorithm",
    "early_termination",
}
