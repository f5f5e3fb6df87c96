"""`name:version`, `name@latest` and `azureml:`-prefixed references, resolved in a workspace."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import F

from environments.models import Environment, EnvironmentVersion
from studio import versioning


def environment_named(workspace, name: str) -> Environment | None:
    """The workspace's own environment called `name`, else the curated one (None when neither)."""
    return (
        Environment.objects.visible_in(workspace)
        .filter(name=name)
        .order_by(F("workspace").asc(nulls_last=True))
        .first()
    )


def resolve_environment(workspace, ref: str, *, field: str = "environment") -> EnvironmentVersion:
    """The version `ref` names, among the workspace's environments and the curated ones.
    `@latest` (or no version) is the newest version that is not archived; an explicit version
    resolves even when archived, so old jobs can still be rerun."""
    name, version = versioning.parse_reference(ref, field=field)
    env = environment_named(workspace, name)
    if env is None:
        raise ValidationError({field: [f"No environment named {name!r} in {workspace.name} (nor a curated one)."]})
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
    return found
