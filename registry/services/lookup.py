"""Finding versions: references (name:version, @latest, @alias, MLflow's models:/ forms), URL
versions, and the newest version of each model for lists."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from registry.models import ModelAlias, ModelVersion
from registry.references import ModelRef, parse_reference
from studio import versioning
from studio.models import Workspace


def versions_named(workspace: Workspace, name: str) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(workspace=workspace, model__name=name).select_related(
        "model", "model__workspace", "datastore", "workspace"
    )


def find(workspace: Workspace, ref: ModelRef) -> ModelVersion | None:
    """The version a parsed reference names, or None."""
    qs = versions_named(workspace, ref.name)
    if ref.version is not None:
        return qs.filter(version=ref.version).first()
    if ref.alias is not None:
        alias = ModelAlias.objects.filter(model__workspace=workspace, model__name=ref.name, alias=ref.alias).first()
        return qs.filter(pk=alias.version_id).first() if alias else None
    if ref.stage is not None:
        return versioning.latest(qs.filter(stage=ref.stage))
    return versioning.latest(qs)


def resolve(workspace: Workspace, ref: str, *, field: str = "model") -> ModelVersion:
    """`name:version`, `name@latest`, `name@<alias>` (optionally `azureml:`-prefixed), or MLflow's
    `models:/name/<version>`, `models:/name@<alias>`, `models:/name/latest|<stage>` -> the version.
    `@latest` skips archived versions; an exact version resolves even when archived. Raises a
    ValidationError on `field` when there is no such version."""
    parsed = parse_reference(ref, field=field)
    found = find(workspace, parsed)
    if found is None:
        raise ValidationError({field: [f"There is no model {parsed} in {workspace.name}."]})
    return found


def get_version(workspace: Workspace, name: str, version: str) -> ModelVersion:
    """For URLs: `version` may be "latest" (the newest non-archived). Http404 when missing."""
    qs = versions_named(workspace, name)
    found = versioning.latest(qs) if version == "latest" else qs.filter(version=version).first()
    if found is None:
        raise Http404(f"No model {name}:{version} in {workspace.name}.")
    return found


def latest_version_ids(queryset: QuerySet[ModelVersion], *, include_archived: bool = False, tag: str = "") -> list[int]:
    """The ids of the newest version of each model in `queryset` (a ModelVersion queryset), in
    model-name order; archived versions count only with `include_archived`; `tag` (key or
    key=value) keeps the models whose newest version has it. One light query, whatever the count."""
    if not include_archived:
        queryset = queryset.filter(archived=False)
    by_model: dict[int, tuple] = {}
    rows = queryset.values_list("pk", "model_id", "model__name", "version", "created_at", "tags")
    for pk, model_id, name, version, created_at, tags in rows:
        key = (versioning.version_sort_key(version), created_at, pk)
        if model_id not in by_model or key > by_model[model_id][0]:
            by_model[model_id] = (key, name, tags)
    chosen = [
        (name.lower(), key[2]) for key, name, tags in by_model.values() if not tag or _tags_match(tags or {}, tag)
    ]
    return [pk for _, pk in sorted(chosen)]


def fetch_versions(ids: list[int]) -> list[ModelVersion]:
    """Versions by id, in the order given, with what lists show (model, aliases, datastore)."""
    rows = (
        ModelVersion.objects.filter(pk__in=ids)
        .select_related("model", "model__workspace", "workspace", "datastore", "created_by")
        .prefetch_related("aliases", "model__aliases__version")
    )
    found = {row.pk: row for row in rows}
    return [found[pk] for pk in ids if pk in found]


def latest_versions(
    queryset: QuerySet[ModelVersion], *, include_archived: bool = False, tag: str = ""
) -> list[ModelVersion]:
    """The newest version of each model in `queryset`, by model name (see latest_version_ids)."""
    return fetch_versions(latest_version_ids(queryset, include_archived=include_archived, tag=tag))


def _tags_match(tags: dict, tag: str) -> bool:
    """`key` or `key=value` against a version's tags (the list page's and API's tag filter)."""
    key, sep, value = tag.partition("=")
    key, value = key.strip(), value.strip()
    return key in tags and (not sep or tags[key] == value)
