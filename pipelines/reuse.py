"""Step reuse that explains itself.

A step's **identity** is what decides its result: the component (reference and content hash), the
code snapshot (with a per-file manifest, so a change can be named), the environment (its pinned
version and build spec hash), each input (a label a person reads, `diabetes:2` or
`prep.outputs.clean`, and a digest of its data's content or its literal value) and the step's
environment variables. The **fingerprint** is the sha256 of the identity's deciding parts. A
deterministic step whose fingerprint matches an earlier completed step of the workspace reuses
that step's outputs; otherwise `explain_run` compares it with the last run of the same step and
says what changed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from datastores.paths import parse_uri
from datastores.services.data import get_datastore
from datastores.storage import StorageError, store_for
from environments.models import EnvironmentVersion
from jobs.models import CodeSnapshot
from studio.versioning import parse_reference

MAX_HASHED_BYTES = 256 * 1024 * 1024


class Digests:
    """Per-decision caches: a code manifest per snapshot, a content digest per data URI."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.code: dict[str, dict[str, str]] = {}
        self.data: dict[str, str] = {}
        self.environments: dict[str, str] = {}
        self.stores: dict[str, object] = {}

    def store(self, datastore: str):
        if datastore not in self.stores:
            self.stores[datastore] = store_for(get_datastore(self.workspace, datastore))
        return self.stores[datastore]

    def manifest(self, code_hash: str | None) -> dict[str, str]:
        """{relative path: sha256[:16]} of a code snapshot's files."""
        if not code_hash:
            return {}
        if code_hash not in self.code:
            snapshot = CodeSnapshot.objects.filter(workspace=self.workspace, hash=code_hash).first()
            files: dict[str, str] = {}
            root = snapshot.path if snapshot else None
            if root is not None and root.is_dir():
                for path in sorted(root.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        files[path.relative_to(root).as_posix()] = _file_digest(path)[:16]
            self.code[code_hash] = files
        return self.code[code_hash]

    def environment(self, label: str) -> str:
        """The build spec hash of a pinned `name:version` environment."""
        if label not in self.environments:
            name, version = parse_reference(label)
            row = (
                EnvironmentVersion.objects.filter(environment__name=name, version=version or "")
                .filter(environment__workspace__in=[self.workspace.pk])
                .values_list("spec_hash", flat=True)
                .first()
            ) or (
                EnvironmentVersion.objects.filter(
                    environment__name=name, version=version or "", environment__workspace__isnull=True
                )
                .values_list("spec_hash", flat=True)
                .first()
            )
            self.environments[label] = row or label
        return self.environments[label]

    def content(self, uri: str) -> str:
        """sha256 over the (path, content sha256) of every file under a datastore URI; a web URL
        stands for itself. A folder too large to hash is described by its paths, sizes and times."""
        if uri in self.data:
            return self.data[uri]
        digest = hashlib.sha256()
        if not uri.startswith("azureml://"):
            digest.update(uri.encode())
        else:
            try:
                located = parse_uri(uri)
                store = self.store(located.datastore)
                entries = (
                    list(store.walk_files(located.path, limit=100_000))
                    if store.isdir(located.path)
                    else [store.info(located.path)]
                )
                total = sum(e.size or 0 for e in entries)
                for entry in sorted(entries, key=lambda e: e.path):
                    rel = entry.path[len(located.path) :].lstrip("/")
                    digest.update(f"{rel}\0{entry.size}\0".encode())
                    if total <= MAX_HASHED_BYTES:
                        inner = hashlib.sha256()
                        for chunk in store.iter_bytes(entry.path):
                            inner.update(chunk)
                        digest.update(inner.digest())
                    else:
                        digest.update(str(entry.modified).encode())
            except (StorageError, OSError, Exception) as exc:  # gone or unreadable: never reused
                digest.update(f"unreadable:{uri}:{type(exc).__name__}".encode())
        self.data[uri] = digest.hexdigest()
        return self.data[uri]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def input_identity(binding: dict, upstream_outputs: dict[str, dict[str, dict]], digests: Digests) -> dict[str, Any]:
    """{"label", "digest"} of one bound input, once its source is known."""
    if binding["kind"] == "literal":
        value = binding.get("value")
        return {
            "label": json.dumps(value) if not isinstance(value, str) else value,
            "digest": json.dumps(value),
            "literal": True,
        }
    if binding["kind"] == "step":
        out = upstream_outputs[binding["step"]][binding["output"]]
        label = f"{binding['step']}.outputs.{binding['output']}"
        return {"label": label, "digest": out.get("digest") or digests.content(out["uri"])}
    item = binding["item"]
    if item.get("model_version_id"):
        return {
            "label": binding.get("label") or item.get("model", ""),
            "digest": digests.content(item.get("uri", ""))
            if str(item.get("uri", "")).startswith("azureml://")
            else str(item.get("model")),
        }
    return {"label": binding.get("label") or item.get("uri", ""), "digest": digests.content(item.get("uri", ""))}


def identity(step: dict, upstream_outputs: dict[str, dict[str, dict]], digests: Digests) -> dict[str, Any]:
    """What decides a step's result, readable (see the module docstring)."""
    return {
        "component": step.get("component") or "inline command",
        "component_name": (step.get("component") or "").split(":")[0] or f"step {step['name']}",
        "interface": step["interface_hash"],
        "command": step["command"],
        "code": step.get("code") or "",
        "files": digests.manifest(step.get("code")),
        "environment": step["environment"],
        "environment_hash": digests.environment(step["environment"]),
        "inputs": {name: input_identity(b, upstream_outputs, digests) for name, b in sorted(step["inputs"].items())},
        "outputs": sorted(step["outputs"]),
        "environment_variables": step.get("environment_variables") or {},
    }


def fingerprint(ident: dict[str, Any]) -> str:
    body = {
        "interface": ident["interface"],
        "command": ident["command"],
        "code": ident["code"],
        "environment_hash": ident["environment_hash"],
        "inputs": {k: v["digest"] for k, v in ident["inputs"].items()},
        "outputs": ident["outputs"],
        "environment_variables": ident["environment_variables"],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def explain_reuse(job_name: str, ident: dict[str, Any]) -> str:
    component = ident["component"]
    component_text = f"same component {component}" if component != "inline command" else "same command"
    code = ", same code" if ident["code"] else ""
    return f"reused from {job_name}: {component_text}{code}, same environment {ident['environment']}, same inputs"


def explain_run(ident: dict[str, Any], previous: dict[str, Any] | None, *, reason: str = "") -> str:
    """Why a step ran: a setting (`reason`), no earlier run, or the changes since the last run."""
    if reason:
        return reason
    if previous is None:
        return f"first run of {ident['component_name']}: nothing earlier to reuse"
    changes: list[str] = []
    if previous.get("component") != ident["component"]:
        changes.append(f"component: {previous.get('component')} -> {ident['component']}")
    if previous.get("code") != ident["code"]:
        old, new = previous.get("files") or {}, ident["files"]
        changed = [p for p in new if p in old and old[p] != new[p]]
        added = [p for p in new if p not in old]
        removed = [p for p in old if p not in new]
        parts = (
            [f"{p} changed" for p in changed[:5]]
            + [f"{p} added" for p in added[:3]]
            + [f"{p} removed" for p in removed[:3]]
        )
        changes.append("code: " + (", ".join(parts) if parts else "snapshot changed"))
    elif previous.get("command") != ident["command"] or previous.get("interface") != ident["interface"]:
        changes.append("component definition changed (command or interface)")
    if previous.get("environment") != ident["environment"]:
        changes.append(f"environment: {previous.get('environment')} -> {ident['environment']}")
    elif previous.get("environment_hash") != ident["environment_hash"]:
        changes.append(f"environment: {ident['environment']} build changed")
    old_inputs = previous.get("inputs") or {}
    for name, now in ident["inputs"].items():
        before = old_inputs.get(name)
        if before is None:
            changes.append(f"inputs.{name}: new input ({now['label']})")
        elif before.get("label") != now["label"]:
            changes.append(f"inputs.{name}: {before.get('label')} -> {now['label']}")
        elif before.get("digest") != now["digest"]:
            changes.append(f"inputs.{name}: content of {now['label']} changed")
    for name in old_inputs:
        if name not in ident["inputs"]:
            changes.append(f"inputs.{name}: no longer given")
    if (previous.get("environment_variables") or {}) != ident["environment_variables"]:
        changes.append("environment_variables changed")
    if previous.get("outputs") != ident["outputs"]:
        changes.append("outputs changed")
    if not changes:
        return "ran: the earlier run with the same inputs did not complete"
    return "; ".join(changes)
