"""The one schema of a compute target (`ComputeSpec`): a JSON body, an Azure ML CLI v2 compute
YAML, or the pages' form all pass through it, and the OpenAPI document describes the API's body
with it (the CLI checks YAML files against that document).

It checks shape and values only; the services check what needs the database or the network
(duplicate names, membership of the assigned user, reaching an attached engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

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
from studio.schema import Choice, SpecSerializer, Tags, WholeNumber
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


def name_problems(name: str) -> list[str]:
    """Why `name` cannot name a new compute target (empty when it can)."""
    try:
        compute_name_validator(name)
    except ValidationError as exc:
        return list(exc.messages)
    if name.lower() == LOCAL_NAME:
        return ["'local' is the name of the built-in target; choose another name."]
    if name.lower() in RESERVED_NAMES:
        return [f"{name!r} is reserved by Studio's pages; choose another name."]
    return []


class TypeField(serializers.ChoiceField):
    """`type:` as written (lower-cased); ComputeSpec resolves aliases and refuses what Studio cannot drive."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=sorted(TYPE_ALIASES), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return str(data).strip().lower()


@extend_schema_field({"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": float(MAX_CPU_CORES)})
class CpuCores(serializers.Field):
    """A number of CPU cores (2, 0.5), kept as a Decimal of two places."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data == "":
            return True, None
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Decimal:
        key = self.field_name
        try:
            if isinstance(data, bool):
                raise InvalidOperation
            number = Decimal(str(data).strip())
            if not number.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            raise serializers.ValidationError(
                f"{key} must be a number of CPU cores, such as 2 or 0.5, not {data!r}."
            ) from None
        if number <= 0:
            raise serializers.ValidationError(f"{key} must be more than 0, not {number}.")
        if number > MAX_CPU_CORES:
            raise serializers.ValidationError(f"{key} must be at most {MAX_CPU_CORES}, not {number}.")
        return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def to_representation(self, value: Any) -> float:
        return float(value)


class TLSMaterial(serializers.Serializer):
    """The TLS material of a tcp:// engine (PEM text); write-only, stored encrypted."""

    ca_cert = serializers.CharField(required=False, help_text="PEM")
    client_cert = serializers.CharField(required=False, help_text="PEM")
    client_key = serializers.CharField(required=False, help_text="PEM; write-only, stored encrypted")


@extend_schema_field(TLSMaterial)
class TLSField(serializers.Field):
    """`tls:` as a mapping of PEM texts; None or {} removes the stored material."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data == {}:
            return True, None
        return super().validate_empty_values(data)

    def to_internal_value(self, raw: Any) -> dict[str, str] | None:
        if not isinstance(raw, Mapping):
            raise serializers.ValidationError("tls is a mapping with ca_cert, client_cert and client_key (PEM text).")
        unknown = set(raw) - TLS_KEYS
        if unknown:
            raise serializers.ValidationError(
                f"Unknown TLS key(s): {', '.join(sorted(map(str, unknown)))}. Use ca_cert, client_cert, client_key."
            )
        material = {k: str(v).strip() for k, v in raw.items() if v not in (None, "")}
        problems = [
            f"tls.{key} is not PEM text (it should start with -----BEGIN ...)."
            for key, text in material.items()
            if "-----BEGIN " not in text
        ]
        if ("client_cert" in material) != ("client_key" in material):
            problems.append("Give client_cert and client_key together.")
        if problems:
            raise serializers.ValidationError(problems)
        return material or None


def _blank(message: str) -> dict[str, Any]:
    return {"required": message, "blank": message, "null": message}


class ComputeSpec(SpecSerializer):
    """A compute target's definition: the body of POST (name and type required) and PATCH (the
    keys given change), as JSON or the same object as Azure ML CLI v2 YAML. Keys of other types
    are refused; Azure-only keys such as location or identity are accepted and ignored."""

    ignored_keys = frozenset(AZURE_IGNORED)
    tolerated_keys = frozenset(READ_ONLY)

    name = serializers.CharField(
        help_text="2–32 letters, digits or '-', starting with a letter",
        error_messages=_blank("Give the compute target a name."),
    )
    type = TypeField(
        help_text=f"One of: {TYPE_CHOICES_TEXT}",
        error_messages=_blank(f"Say which type of compute this is: {TYPE_CHOICES_TEXT}."),
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        max_length=2000,
        error_messages={"max_length": "Keep the description under 2000 characters."},
    )
    tags = Tags()
    size = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="An Azure VM size such as Standard_DS3_v2, or 'custom'",
    )
    cpu_cores = CpuCores(required=False, help_text="Per-job CPU limit (overrides the size)")
    memory_mb = WholeNumber(
        required=False,
        min_value=MIN_MEMORY_MB,
        max_value=MAX_MEMORY_MB,
        help_text="Per-job memory limit (overrides the size)",
    )
    gpus = WholeNumber(required=False, min_value=0, max_value=MAX_GPUS)
    backend = Choice(Backend.values, message="Unknown backend {input!r}. Use venv or docker.")
    min_instances = WholeNumber(required=False, min_value=0, max_value=MAX_INSTANCES, help_text="cluster")
    max_instances = WholeNumber(
        required=False, min_value=1, max_value=MAX_INSTANCES, help_text="cluster: concurrent jobs at most"
    )
    idle_time_before_scale_down = WholeNumber(
        required=False, min_value=0, max_value=MAX_IDLE_SECONDS, help_text="cluster, seconds"
    )
    tier = Choice(
        Tier.values,
        aliases={"lowpriority": Tier.LOW_PRIORITY},
        message="Unknown tier {input!r}. Use dedicated or low_priority.",
        help_text="cluster",
    )
    assigned_to = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="instance: the member's username"
    )
    docker_host = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="attached: ssh://user@host or tcp://host:2376"
    )
    tls = TLSField(required=False, help_text="attached tcp:// engines: write-only")

    kind: str

    def allowed_keys(self, data: Mapping) -> set[str]:
        return COMMON_KEYS | KEYS_OF_TYPE[self.kind]

    def describe(self, data: Mapping) -> str:
        label = ComputeType(self.kind).label.lower()
        return f"a {label}" if " " in label else f"a {label} target"  # "a docker target", "a compute cluster"

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """The type comes first: it decides which keys the rest may use."""
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"spec": ["Expected a mapping of keys to values."]})
        if self.instance is not None:
            self.kind = self.instance.type
            return super().to_internal_value(data)
        try:
            self.kind = resolve_type(data.get("type"))
        except ValidationError as exc:
            errors = dict(exc.message_dict)
            name = str(data.get("name") or "").strip()
            problems = name_problems(name) if name else ["Give the compute target a name."]
            if problems:
                errors["name"] = problems
            raise serializers.ValidationError(errors) from None
        return super().to_internal_value(data)

    def validate_name(self, value: str) -> str:
        if self.instance is not None:
            if value != self.instance.name:
                raise serializers.ValidationError(
                    "A compute target cannot be renamed: its name is its queue's name. Create a new one instead."
                )
            return value
        problems = name_problems(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate_type(self, value: str | None) -> str | None:
        target = self.instance
        if target is None:
            return self.kind
        if value is not None and TYPE_ALIASES.get(value, value) != target.type:
            raise serializers.ValidationError(
                f"{target.name} is a {target.get_type_display().lower()}; a type cannot change. "
                "Delete it and create a new one."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Rules across keys. Returns the model values given (`values`), the instance's member
        (`assigned_to`) and the TLS material (`tls`, when given)."""
        kind, existing = self.kind, self.instance
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        out: dict[str, Any] = {"values": values}
        if existing is None:
            values["name"], values["type"] = attrs.get("name", ""), kind
        if "description" in attrs:
            values["description"] = attrs["description"] or ""
        if "tags" in attrs:
            values["tags"] = attrs["tags"]
        backend = attrs.get("backend")
        if backend:
            if kind == ComputeType.LOCAL and backend != Backend.VENV:
                errors["backend"] = ["The local target runs processes (venv). Create a 'docker' target for containers."]
            elif kind in (ComputeType.DOCKER, ComputeType.ATTACHED) and backend != Backend.DOCKER:
                errors["backend"] = [f"A {ComputeType(kind).label} always uses the docker backend."]
            else:
                values["backend"] = backend
        _size(attrs, values, errors, existing)
        if kind == ComputeType.CLUSTER:
            _cluster(attrs, values, errors, existing)
        elif kind == ComputeType.INSTANCE and "assigned_to" in attrs:
            username = (attrs["assigned_to"] or "").strip()
            if not username:
                errors["assigned_to"] = ["An instance belongs to one member: name them."]
            out["assigned_to"] = username
        elif kind == ComputeType.ATTACHED:
            if "docker_host" in attrs or existing is None:
                host = (attrs.get("docker_host") or "").strip()
                problem = docker_host_problem(host)
                if problem:
                    errors["docker_host"] = [problem]
                values["docker_host"] = host
            if "tls" in attrs:
                out["tls"] = attrs["tls"]
            host = values.get("docker_host", existing.docker_host if existing else "")
            has_tls = bool(out["tls"]) if "tls" in out else bool(existing and existing.tls_encrypted)
            if has_tls and host and not host.startswith("tcp://"):
                errors["tls"] = ["TLS material is for tcp:// engines only; ssh:// and unix:// need none."]
        if errors:
            raise serializers.ValidationError(errors)
        return out


def _size(attrs: dict, values: dict, errors: dict, existing: ComputeTarget | None) -> None:
    """`size` (an Azure VM size name) and/or explicit cpu_cores, memory_mb, gpus per job."""
    raw = attrs.get("size") or ""
    size = None
    if raw and raw.lower() != sizes.CUSTOM:
        size = sizes.lookup(raw)
        if size is None:
            examples = ", ".join(s.name for s in sizes.SIZES[:5])
            errors["size"] = [
                f"Unknown size {raw!r}. Use a size such as {examples} (see the list on the create page), "
                "or give cpu_cores, memory_mb and gpus."
            ]
            return
    explicit = {k: attrs[k] for k in ("cpu_cores", "memory_mb", "gpus") if attrs.get(k) is not None}
    if size is None and not explicit:
        if raw:  # "custom" with nothing else
            errors["size"] = ["A custom size needs cpu_cores and memory_mb."]
        return
    base: dict[str, Any]
    if size is not None:
        base = {"cpu_cores": Decimal(str(size.cpu_cores)), "memory_mb": size.memory_mb, "gpus": size.gpus}
    elif existing is not None:
        base = {"cpu_cores": existing.cpu_cores, "memory_mb": existing.memory_mb, "gpus": existing.gpus}
    else:
        missing = [k for k in ("cpu_cores", "memory_mb") if k not in explicit]
        for key in missing:
            errors[key] = ["Give it too (or a size name), so the job's limits are known."]
        if missing:
            return
        base = {"gpus": 0}
    limits = base | explicit
    match = sizes.matching(float(limits["cpu_cores"]), limits["memory_mb"], limits["gpus"])
    values.update(limits)
    values["size"] = match.name if match else ""


def _cluster(attrs: dict, values: dict, errors: dict, existing: ComputeTarget | None) -> None:
    for key in ("min_instances", "max_instances", "idle_time_before_scale_down", "tier"):
        if attrs.get(key) is not None:
            values[key] = attrs[key]
    low = values.get("min_instances", existing.min_instances if existing else 0)
    if "max_instances" in values:
        high = values["max_instances"]
    elif existing is not None:
        high = existing.max_instances
    else:
        high = values["max_instances"] = max(low, 1)
    if low > high:
        errors["min_instances"] = [f"min_instances ({low}) cannot be more than max_instances ({high})."]


def _clean(schema: ComputeSpec, data: Mapping) -> CleanSpec:
    out = schema.clean()
    spec = CleanSpec(type=schema.kind, values=out["values"], notices=schema.notices(data))
    spec.assigned_username = out.get("assigned_to")
    if "tls" in out:
        spec.tls = out["tls"]
    return spec


def clean_new(data: Mapping) -> CleanSpec:
    """Validate a definition of a new target (every key optional but name and type)."""
    spec = _clean(ComputeSpec(data=data), data)
    _fill_defaults(spec)
    return spec


def clean_changes(target: ComputeTarget, data: Mapping) -> CleanSpec:
    """Validate a partial change of `target` (PATCH, the edit form, a YAML re-applied)."""
    return _clean(ComputeSpec(target, data=data, partial=True), data)


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
