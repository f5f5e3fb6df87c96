"""`name:version`, `name@latest` and `azureml:`-prefixed references, resolved in a workspace."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import F

from environments import aliases
from environments.models import CURATED_PREFIX, Environment, EnvironmentVersion
from studio import versioning


def environment_named(workspace, name: str) -> Environment | None:
    """The workspace's own environment called `name`, else the curated one (None when neither)."""
    return (
        Environment.objects.visible_in(workspace)
        .filter(name=name)
        .order_by(F("workspace").asc(nulls_last=True))
        .first()
    )


def curated_names() -> list[str]:
    return sorted(Environment.objects.filter(workspace__isnull=True).values_list("name", flat=True))


def _azure_curated(workspace, name: str, field: str) -> Environment:
    """Studio's curated environment closest to an Azure ML curated name, or a message that lists
    the curated names there are."""
    studio_name = aliases.studio_name_for(name)
    env = environment_named(workspace, studio_name) if studio_name else None
    if env is None:
        raise ValidationError(
            {
                field: [
                    f"{name!r} is an Azure ML curated environment that Studio has no counterpart for. "
                    f"Studio's curated environments: {', '.join(curated_names()) or 'none'}."
                ]
            }
        )
    return env


def resolve_environment(workspace, ref: str, *, field: str = "environment") -> EnvironmentVersion:
    """The version `ref` names, among the workspace's environments and the curated ones.
    `@latest` (or no version) is the newest version that is not archived; an explicit version
    resolves even when archived, so old jobs can still be rerun. An Azure ML curated name
    (`AzureML-sklearn-1.5@latest`) resolves to the newest version of Studio's closest curated
    environment; the returned version's `alias_of` then holds `ref`."""
    name, version = versioning.parse_reference(ref, field=field)
    env = environment_named(workspace, name)
    alias_of = ""
    if env is None and aliases.is_azure_curated(name):
        env, version, alias_of = _azure_curated(workspace, name, field), None, ref
    if env is None:
        known = curated_names()
        hint = f" Curated names start with {CURATED_PREFIX!r}: {', '.join(known)}." if known else ""
        raise ValidationError(
            {field: [f"No environment named {name!r} in {workspace.name} (nor a curated one).{hint}"]}
        )
    if version is None:
        found = versioning.latest(env.versions.all())
        if found is None:
            raise ValidationError({field: [f"Every version of {name} is archived; name a version (e.g. {name}:1)."]})
    else:
        found = env.versions.filter(version=version).first()
        if found is None:
            have = ", ".join(sorted(env.versions.values_list("version", flat=True), key=versioning.version_sort_key))
            raise ValidationError({field: [f"{name} has no version {version!r} (it has {have})."]})
    found.environment = env
    found.alias_of = alias_of
    return found
