"""Creating, finding and archiving component versions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from jobs import integrations
from jobs.models import CodeSnapshot
from jobs.services.submit import CODE_ID
from pipelines.component_spec import ComponentSpec, parse_component
from pipelines.models import Component, ComponentVersion
from studio import activity, versioning
from studio.errors import Conflict


def code_snapshot(workspace, code: str | None, *, field: str = "code") -> CodeSnapshot | None:
    """The workspace's code snapshot a `code:` value names (a code id from POST /codes/)."""
    if not code:
        return None
    match = CODE_ID.match(code)
    if not match:
        raise ValidationError(
            {
                field: [
                    f"{code!r} is a local path: send the folder as a zip (multipart field 'code'), or upload it "
                    "first with POST /codes/ and give the id it returns (the CLI does this for you)."
                ]
            }
        )
    found = CodeSnapshot.objects.filter(workspace=workspace, hash=match[1]).first()
    if found is None:
        raise ValidationError(
            {field: [f"No code snapshot {match[1][:12]}… in this workspace: upload it with POST /codes/."]}
        )
    return found


def environment_label(workspace, ref: str | dict, *, actor, field: str = "environment") -> str:
    """Pin an environment reference (or inline definition) to `name:version`."""
    try:
        version = integrations.resolve_environment(workspace, ref, actor=actor)
    except ValidationError as exc:
        messages = exc.messages
        raise ValidationError({field: messages}) from None
    return f"{version.environment.name}:{version.version}"


@transaction.atomic
def do_create_component_version(workspace, *, actor, data: dict, code: CodeSnapshot | None = None) -> ComponentVersion:
    """Validate a component mapping and store it as a new version (auto-numbered unless given).
    The environment must resolve now; an inline one is pinned to its anonymous version."""
    spec = parse_component(data)
    snapshot = code or code_snapshot(workspace, spec.code)
    spec.environment = environment_label(workspace, spec.environment, actor=actor)
    spec.code = snapshot.hash if snapshot else None
    component = Component.objects.filter(workspace=workspace, name=spec.name).first()
    if component is None:
        try:
            with transaction.atomic():
                component = Component.objects.create(workspace=workspace, name=spec.name, created_by=_user(actor))
        except IntegrityError:
            component = Component.objects.get(workspace=workspace, name=spec.name)
    existing = list(component.versions.values_list("version", flat=True))
    if spec.version:
        version = versioning.validate_version(spec.version)
        if version == "latest":
            raise ValidationError({"version": ["'latest' is a label, not a version."]})
        if version in existing:
            raise Conflict(
                {
                    "version": [
                        f"{spec.name}:{version} already exists; versions are immutable. "
                        "Leave out version for the next number."
                    ]
                }
            )
    else:
        version = versioning.next_version(existing)
    spec.version = version
    created = ComponentVersion.objects.create(
        workspace=workspace,
        component=component,
        version=version,
        display_name=spec.display_name,
        description=spec.description,
        tags=spec.tags,
        spec=spec.to_dict(),
        code=snapshot,
        is_deterministic=spec.is_deterministic,
        interface_hash=spec.interface_hash(snapshot.hash if snapshot else ""),
        created_by=_user(actor),
    )
    created.notices = spec.notices  # type: ignore[attr-defined]
    activity.record(workspace, actor, "component.created", created.reference)
    return created


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def resolve_component(
    workspace, ref: str, *, field: str = "component", include_archived: bool = False
) -> ComponentVersion:
    """`azureml:train:3`, `train:3`, `train@latest` or `train` -> the workspace's version."""
    name, version = versioning.parse_reference(ref, field=field)
    rows = ComponentVersion.objects.filter(workspace=workspace, component__name=name).select_related(
        "component", "code"
    )
    if version:
        found = rows.filter(version=version).first()
        if found is None:
            known = sorted(rows.values_list("version", flat=True), key=versioning.version_sort_key)
            have = f" (there is: {', '.join(known)})" if known else " (there is no component of that name)"
            raise ValidationError({field: [f"Unknown component version {name}:{version}{have}."]})
        return found
    found = versioning.latest(rows, include_archived=include_archived)
    if found is None:
        raise ValidationError({field: [f"Unknown component {name!r}: create it with `studio component create`."]})
    return found


def spec_of(version: ComponentVersion) -> ComponentSpec:
    return ComponentSpec.from_dict(version.spec)


@transaction.atomic
def do_archive_component_version(version: ComponentVersion, *, actor) -> ComponentVersion:
    if not version.archived:
        version.archived = True
        version.save(update_fields=["archived"])
        activity.record(version.workspace, actor, "component.archived", version.reference)
    return version


@transaction.atomic
def do_restore_component_version(version: ComponentVersion, *, actor) -> ComponentVersion:
    if version.archived:
        version.archived = False
        version.save(update_fields=["archived"])
        activity.record(version.workspace, actor, "component.restored", version.reference)
    return version


def register_inline_component(workspace, *, actor, data: dict) -> ComponentVersion:
    """A component mapping given inside a pipeline (a component file the CLI read, its code
    uploaded): the existing version of that name with the same content, else a new version (the
    file's version when it is free, else the next number), as Azure ML registers them."""
    spec = parse_component(data)
    snapshot = code_snapshot(workspace, spec.code)
    environment = environment_label(workspace, spec.environment, actor=actor)
    probe = ComponentSpec.from_dict(
        {**spec.to_dict(), "environment": environment, "code": snapshot.hash if snapshot else None}
    )
    digest = probe.interface_hash(snapshot.hash if snapshot else "")
    rows = ComponentVersion.objects.filter(workspace=workspace, component__name=spec.name).select_related("component")
    same = [v for v in rows if v.interface_hash == digest]
    if same:
        wanted = [v for v in same if v.version == spec.version] or same
        return versioning.newest(wanted)
    taken = {v.version for v in rows}
    payload = dict(data)
    payload["environment"] = environment
    if not spec.version or spec.version in taken:
        payload.pop("version", None)
    return do_create_component_version(workspace, actor=actor, data=payload, code=snapshot)
