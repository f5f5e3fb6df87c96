"""Reading a compute target's definition: a JSON body, an Azure ML CLI v2 compute YAML, or a form.

One validator for all three, so the browser, the API and the CLI say the same thing about a bad
definition. It checks shape and values only; the services check what needs the database or the
network (duplicate names, membership of the assigned user, reaching an attached engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from compute import sizes
from compute.capabilities import largest_machine
from compute.models import (
    LOCAL_NAME,
    Backend,
    ComputeTarget,
    ComputeType,
    Tier,
    compute_name_validator,
)
from studio import netcheck
from studio.tags import clean_tags
from studio.yamlspec import load_mapping

# What people write in `type:` -> Studio's type.
TYPE_ALIASES = {
    "amlcompute": ComputeType.CLUSTER,
    "cluster": ComputeType.CLUSTER,
    "computeinstance": ComputeType.INSTANCE,
    "instance": ComputeType.INSTANCE,
    "attached": ComputeType.ATTACHED,
    "docker": ComputeType.DOCKER,
}
TYPE_CHOICES_TEXT = "amlcompute (or cluster), computeinstance (or instance), attached, docker"
UNSUPPORTED_AZURE_TYPES = {"kubernetes", "virtualmachine", "synapsespark", "aks", "hdinsight", "databricks"}

COMMON_KEYS = {"name", "type", "description", "tags", "size", "cpu_cores", "memory_mb", "gpus", "backend"}
KEYS_OF_TYPE: dict[str, set[str]] = {
    ComputeType.CLUSTER: {"min_instances", "max_instances", "idle_time_before_scale_down", "tier"},
    ComputeType.INSTANCE: {"assigned_to"},
    ComputeType.ATTACHED: {"docker_host", "tls"},
    ComputeType.DOCKER: set(),
    ComputeType.LOCAL: set(),
}
# Azure keys with no meaning here: accepted so existing files load, reported as ignored.
AZURE_IGNORED = {
    "location",
    "identity",
    "network_settings",
    "ssh_public_access_enabled",
    "ssh_settings",
    "admin_username",
    "admin_password",
    "ssh_key_value",
    "enable_node_public_ip",
    "create_on_behalf_of",
    "schedules",
    "setup_scripts",
    "resource_id",
    "endpoint",
    "idle_time_before_shutdown",
    "idle_time_before_shutdown_minutes",
    "custom_applications",
    "enable_sso",
    "enable_root_access",
    "os_image_metadata",
    "properties",
}
# Fields of our own GET output: a client that PATCHes back what it read is not wrong.
READ_ONLY = {
    "id",
    "state",
    "state_message",
    "created_by",
    "created_at",
    "updated_at",
    "queue",
    "address",
    "nodes",
    "demand",
    "desired_nodes",
    "scaler_status",
    "status",
    "engine_info",
    "has_tls",
    "size_label",
    "type_label",
}
RESERVED_NAMES = {"new"}  # /compute/new/ is the create page
TLS_KEYS = {"ca_cert", "client_cert", "client_key"}
DOCKER_HOST_SCHEMES = ("tcp", "ssh", "unix")

MAX_CPU_CORES = Decimal(1024)
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 4 * 1024 * 1024
MAX_GPUS = 16
MAX_INSTANCES = 1000
MAX_IDLE_SECONDS = 7 * 24 * 3600

_UNSET = object()


@dataclass
class CleanSpec:
    """Validated values: model field -> value (only the fields given), plus the TLS material in
    clear (None: remove it; absent: keep) and notices about keys accepted but ignored."""

    type: str
    values: dict[str, Any] = field(default_factory=dict)
    assigned_username: str | None = None
    tls: Any = _UNSET
    notices: list[str] = field(default_factory=list)

    @property
    def tls_given(self) -> bool:
        return self.tls is not _UNSET


def parse_yaml(text: str, *, source: str = "compute YAML") -> Mapping:
    """The YAML text as a mapping that remembers the line of each key (for error messages)."""
    return load_mapping(text, source=source, field="spec")


def resolve_type(raw: Any) -> str:
    """Studio's type for what a definition says, or a ValidationError naming the choices."""
    if raw is None or str(raw).strip() == "":
        raise ValidationError({"type": [f"Say which type of compute this is: {TYPE_CHOICES_TEXT}."]})
    text = str(raw).strip().lower()
    if text == ComputeType.LOCAL:
        raise ValidationError(
            {"type": ["Every workspace has the built-in 'local' target; another one cannot be created."]}
        )
    if text in UNSUPPORTED_AZURE_TYPES:
        raise ValidationError(
            {
                "type": [
                    f"Azure's {text!r} compute is not something Studio can drive. Attach a Docker engine "
                    "instead (type: attached, docker_host: ssh://user@host or tcp://host:2376)."
                ]
            }
        )
    if text not in TYPE_ALIASES:
        raise ValidationError({"type": [f"Unknown compute type {raw!r}. Use one of: {TYPE_CHOICES_TEXT}."]})
    return TYPE_ALIASES[text]


def clean_new(data: Mapping) -> CleanSpec:
    """Validate a definition of a new target (every key optional but name and type)."""
    if not isinstance(data, Mapping):
        raise ValidationError({"spec": ["Expected a mapping of keys to values."]})
    errors: dict[str, list[str]] = {}
    try:
        kind = resolve_type(data.get("type"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        kind = None
    name = data.get("name")
    if name is None or str(name).strip() == "":
        errors.setdefault("name", []).append("Give the compute target a name.")
    else:
        _check_name(str(name).strip(), errors)
    if kind is None:
        raise ValidationError(errors)
    spec = CleanSpec(type=kind)
    spec.values["name"] = str(name).strip() if name is not None else ""
    spec.values["type"] = kind
    _check_keys(data, kind, errors, spec)
    _read_common(data, kind, spec, errors, existing=None)
    _read_for_type(data, kind, spec, errors, existing=None)
    if errors:
        raise ValidationError(errors)
    _fill_defaults(spec)
    return spec


def clean_changes(target: ComputeTarget, data: Mapping) -> CleanSpec:
    """Validate a partial change of `target` (PATCH, the edit form, a YAML re-applied)."""
    if not isinstance(data, Mapping):
        raise ValidationError({"spec": ["Expected a mapping of keys to values."]})
    errors: dict[str, list[str]] = {}
    spec = CleanSpec(type=target.type)
    if "name" in data and str(data["name"]).strip() != target.name:
        errors.setdefault("name", []).append(
            "A compute target cannot be renamed: its name is its queue's name. Create a new one instead."
        )
    if "type" in data and data["type"] is not None:
        raw = str(data["type"]).strip().lower()
        if TYPE_ALIASES.get(raw, raw) != target.type:
            errors.setdefault("type", []).append(
                f"{target.name} is a {target.get_type_display().lower()}; a type cannot change. "
                "Delete it and create a new one."
            )
    _check_keys(data, target.type, errors, spec)
    _read_common(data, target.type, spec, errors, existing=target)
    _read_for_type(data, target.type, spec, errors, existing=target)
    if errors:
        raise ValidationError(errors)
    return spec


def _check_name(name: str, errors: dict) -> None:
    try:
        compute_name_validator(name)
    except ValidationError as exc:
        errors.setdefault("name", []).extend(exc.messages)
        return
    if name.lower() == LOCAL_NAME:
        errors.setdefault("name", []).append("'local' is the name of the built-in target; choose another name.")
    elif name.lower() in RESERVED_NAMES:
        errors.setdefault("name", []).append(f"{name!r} is reserved by Studio's pages; choose another name.")


def _where(data: Mapping, key: str) -> str:
    line = getattr(data, "lines", {}).get(key)
    return f" (line {line})" if line else ""


def _check_keys(data: Mapping, kind: str, errors: dict, spec: CleanSpec) -> None:
    allowed = COMMON_KEYS | KEYS_OF_TYPE[kind]
    others = {k for keys in KEYS_OF_TYPE.values() for k in keys} - allowed
    label = ComputeType(kind).label.lower()
    for key in data:
        if key in allowed or key in READ_ONLY or key == "$schema":
            continue
        if key in AZURE_IGNORED:
            spec.notices.append(f"{key!r}{_where(data, key)} is accepted but ignored by Studio.")
        elif key in others:
            errors.setdefault(str(key), []).append(f"Not a setting of a {label}{_where(data, key)}.")
        else:
            errors.setdefault(str(key), []).append(
                f"Unknown key{_where(data, key)}. A {label} takes: {', '.join(sorted(allowed))}."
            )


def _given(data: Mapping, key: str) -> bool:
    return key in data and data[key] is not None and data[key] != ""


def _read_common(data: Mapping, kind: str, spec: CleanSpec, errors: dict, existing: ComputeTarget | None) -> None:
    values = spec.values
    if "description" in data:
        text = "" if data["description"] is None else str(data["description"])
        if len(text) > 2000:
            errors.setdefault("description", []).append("Keep the description under 2000 characters.")
        values["description"] = text
    if "tags" in data:
        try:
            values["tags"] = clean_tags(data["tags"])
        except ValidationError as exc:
            errors.setdefault("tags", []).extend(exc.message_dict["tags"])
    if _given(data, "backend"):
        backend = str(data["backend"]).strip().lower()
        if backend not in Backend.values:
            errors.setdefault("backend", []).append(f"Unknown backend {data['backend']!r}. Use venv or docker.")
        elif kind == ComputeType.LOCAL and backend != Backend.VENV:
            errors.setdefault("backend", []).append(
                "The local target runs processes (venv). Create a 'docker' target for containers."
            )
        elif kind in (ComputeType.DOCKER, ComputeType.ATTACHED) and backend != Backend.DOCKER:
            errors.setdefault("backend", []).append(f"A {ComputeType(kind).label} always uses the docker backend.")
        else:
            values["backend"] = backend
    _read_size(data, spec, errors, existing)


def _read_size(data: Mapping, spec: CleanSpec, errors: dict, existing: ComputeTarget | None) -> None:
    """`size` (an Azure VM size name) and/or explicit cpu_cores, memory_mb, gpus per job."""
    size = None
    if _given(data, "size") and str(data["size"]).strip().lower() != sizes.CUSTOM:
        size = sizes.lookup(data["size"])
        if size is None:
            examples = ", ".join(s.name for s in sizes.SIZES[:5])
            errors.setdefault("size", []).append(
                f"Unknown size {data['size']!r}. Use a size such as {examples} (see the list on the create page), "
                "or give cpu_cores, memory_mb and gpus."
            )
            return
    explicit: dict[str, Any] = {}
    if _given(data, "cpu_cores"):
        explicit["cpu_cores"] = _decimal(data["cpu_cores"], "cpu_cores", errors)
    if _given(data, "memory_mb"):
        explicit["memory_mb"] = _int(data["memory_mb"], "memory_mb", errors, MIN_MEMORY_MB, MAX_MEMORY_MB)
    if _given(data, "gpus"):
        explicit["gpus"] = _int(data["gpus"], "gpus", errors, 0, MAX_GPUS)
    if any(v is None for v in explicit.values()):
        return
    if size is None and not explicit:
        if _given(data, "size"):  # "custom" with nothing else
            errors.setdefault("size", []).append("A custom size needs cpu_cores and memory_mb.")
        return
    base: dict[str, Any]
    if size is not None:
        base = {"cpu_cores": Decimal(str(size.cpu_cores)), "memory_mb": size.memory_mb, "gpus": size.gpus}
    elif existing is not None:
        base = {"cpu_cores": existing.cpu_cores, "memory_mb": existing.memory_mb, "gpus": existing.gpus}
    else:
        missing = [k for k in ("cpu_cores", "memory_mb") if k not in explicit]
        if missing:
            for key in missing:
                errors.setdefault(key, []).append("Give it too (or a size name), so the job's limits are known.")
            return
        base = {"gpus": 0}
    limits = base | explicit
    match = sizes.matching(float(limits["cpu_cores"]), limits["memory_mb"], limits["gpus"])
    spec.values.update(limits)
    spec.values["size"] = match.name if match else ""


def _read_for_type(data: Mapping, kind: str, spec: CleanSpec, errors: dict, existing: ComputeTarget | None) -> None:
    values = spec.values
    if kind == ComputeType.CLUSTER:
        if _given(data, "min_instances"):
            values["min_instances"] = _int(data["min_instances"], "min_instances", errors, 0, MAX_INSTANCES)
        if _given(data, "max_instances"):
            values["max_instances"] = _int(data["max_instances"], "max_instances", errors, 1, MAX_INSTANCES)
        if "min_instances" not in errors and "max_instances" not in errors:
            low = values.get("min_instances", existing.min_instances if existing else 0)
            if "max_instances" in values:
                high = values["max_instances"]
            elif existing is not None:
                high = existing.max_instances
            else:
                high = values["max_instances"] = max(low, 1)
            if low > high:
                errors.setdefault("min_instances", []).append(
                    f"min_instances ({low}) cannot be more than max_instances ({high})."
                )
        if _given(data, "idle_time_before_scale_down"):
            values["idle_time_before_scale_down"] = _int(
                data["idle_time_before_scale_down"], "idle_time_before_scale_down", errors, 0, MAX_IDLE_SECONDS
            )
        if _given(data, "tier"):
            tier = str(data["tier"]).strip().lower().replace("-", "_").replace(" ", "_")
            tier = {"lowpriority": Tier.LOW_PRIORITY}.get(tier, tier)
            if tier not in Tier.values:
                errors.setdefault("tier", []).append(f"Unknown tier {data['tier']!r}. Use dedicated or low_priority.")
            else:
                values["tier"] = tier
    elif kind == ComputeType.INSTANCE:
        if "assigned_to" in data:
            username = str(data["assigned_to"] or "").strip()
            if not username:
                errors.setdefault("assigned_to", []).append("An instance belongs to one member: name them.")
            spec.assigned_username = username
    elif kind == ComputeType.ATTACHED:
        if "docker_host" in data or existing is None:
            host = str(data.get("docker_host") or "").strip()
            problem = docker_host_problem(host)
            if problem:
                errors.setdefault("docker_host", []).append(problem)
            values["docker_host"] = host
        if "tls" in data:
            spec.tls = _read_tls(data["tls"], errors)
        host = values.get("docker_host", existing.docker_host if existing else "")
        has_tls = bool(spec.tls) if spec.tls_given else bool(existing and existing.tls_encrypted)
        if has_tls and host and not host.startswith("tcp://"):
            errors.setdefault("tls", []).append(
                "TLS material is for tcp:// engines only; ssh:// and unix:// need none."
            )


def docker_host_problem(host: str) -> str:
    """Why `host` is not a Docker engine address we can use, or ''."""
    if not host:
        return "An attached engine needs its address: ssh://user@host, tcp://host:2376 or unix:///path/docker.sock."
    try:
        parts = urlsplit(host)
        port = parts.port
    except ValueError as exc:
        return f"{host!r} is not a valid address: {exc}."
    if parts.scheme not in DOCKER_HOST_SCHEMES:
        return f"Use an ssh://, tcp:// or unix:// address, not {host!r}."
    if parts.scheme == "unix":
        if not parts.path.startswith("/"):
            return "A unix:// address needs an absolute socket path, e.g. unix:///var/run/docker.sock."
        if not settings.STUDIO_ALLOW_PRIVATE_URLS:
            return f"A unix:// socket is on the Studio server itself ({netcheck.ALLOW_HINT})."
        return ""
    if not parts.hostname:
        return f"{host!r} names no host."
    if parts.scheme == "tcp" and port is None:
        return "Give the port of a tcp:// engine, e.g. tcp://host:2376."
    if parts.scheme == "ssh" and parts.path not in ("", "/"):
        return "An ssh:// address is ssh://user@host[:port], with no path."
    if parts.query or parts.fragment or parts.password is not None:
        return "Give the address only: no ?query, #fragment or password (TLS material goes in tls)."
    return netcheck.host_problem(parts.hostname, port)


def _read_tls(raw: Any, errors: dict) -> dict[str, str] | None:
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, Mapping):
        errors.setdefault("tls", []).append("tls is a mapping with ca_cert, client_cert and client_key (PEM text).")
        return None
    unknown = set(raw) - TLS_KEYS
    if unknown:
        errors.setdefault("tls", []).append(
            f"Unknown TLS key(s): {', '.join(sorted(map(str, unknown)))}. Use ca_cert, client_cert, client_key."
        )
        return None
    material = {k: str(v).strip() for k, v in raw.items() if v not in (None, "")}
    for key, text in material.items():
        if "-----BEGIN " not in text:
            errors.setdefault("tls", []).append(f"tls.{key} is not PEM text (it should start with -----BEGIN ...).")
    if ("client_cert" in material) != ("client_key" in material):
        errors.setdefault("tls", []).append("Give client_cert and client_key together.")
    return material or None


def _int(value: Any, key: str, errors: dict, minimum: int, maximum: int) -> int | None:
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    else:
        number = None
    if number is None:
        errors.setdefault(key, []).append(f"{key} must be a whole number, not {value!r}.")
        return None
    if number < minimum:
        errors.setdefault(key, []).append(f"{key} must be at least {minimum}, not {number}.")
        return None
    if number > maximum:
        errors.setdefault(key, []).append(f"{key} must be at most {maximum}, not {number}.")
        return None
    return number


def _decimal(value: Any, key: str, errors: dict) -> Decimal | None:
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.setdefault(key, []).append(f"{key} must be a number of CPU cores, such as 2 or 0.5, not {value!r}.")
        return None
    if number <= 0:
        errors.setdefault(key, []).append(f"{key} must be more than 0, not {number}.")
        return None
    if number > MAX_CPU_CORES:
        errors.setdefault(key, []).append(f"{key} must be at most {MAX_CPU_CORES}, not {number}.")
        return None
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _fill_defaults(spec: CleanSpec) -> None:
    """Defaults of a new target, by type (the model's field defaults cover the rest)."""
    values = spec.values
    if "cpu_cores" not in values:  # no size given: one that fits the machines here (not 4 cores on a 2-core host)
        limits = sizes.default_for(largest_machine())
        values.update(limits, cpu_cores=Decimal(str(limits["cpu_cores"])))
    if spec.type in (ComputeType.DOCKER, ComputeType.ATTACHED):
        values["backend"] = Backend.DOCKER
    else:
        values.setdefault("backend", Backend.VENV)
    if spec.type == ComputeType.INSTANCE:
        values["min_instances"], values["max_instances"] = 0, 1
