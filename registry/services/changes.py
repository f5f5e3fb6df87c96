"""Changing models and versions after they exist: description and tags, name, aliases, stage,
archive/restore, delete; and lineage records."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from datastores.models import Datastore
from datastores.storage import StorageError, store_for
from registry.models import Model, ModelAlias, ModelUsage, ModelVersion
from registry.services.actor import Actor
from registry.services.checks import check_alias, check_name, check_stage, clean_description, clean_mapping
from studio import activity
from studio.errors import Conflict


def _edit(
    row: Model | ModelVersion,
    *,
    description: str | None,
    tags: dict | None,
    set_tags: dict | None,
    delete_tags: list[str] | None,
) -> list[str]:
    """Apply a description/tags change to a model or a version and save it; returns what changed."""
    changed = []
    if description is not None and clean_description(description) != row.description:
        row.description = clean_description(description)
        changed.append("description")
    new_tags = clean_mapping(tags, "tags") if tags is not None else dict(row.tags)
    if set_tags:
        new_tags.update(clean_mapping(set_tags, "tags"))
    for key in delete_tags or ():
        new_tags.pop(str(key), None)
    if new_tags != row.tags:
        row.tags = new_tags
        changed.append("tags")
    if changed:
        row.updated_at = timezone.now()
        row.save(update_fields=[*changed, "updated_at"])
    return changed


@transaction.atomic
def do_update_model(
    model: Model,
    *,
    actor: Actor,
    description: str | None = None,
    tags: dict | None = None,
    set_tags: dict | None = None,
    delete_tags: list[str] | None = None,
) -> Model:
    """The model's own description and tags. `tags` replaces them all; `set_tags` adds or
    changes some; `delete_tags` removes keys (absent keys are fine). None leaves a field alone."""
    changed = _edit(model, description=description, tags=tags, set_tags=set_tags, delete_tags=delete_tags)
    if changed:
        activity.record(model.workspace, actor, "model.updated", model.name, fields=changed)
    return model


@transaction.atomic
def do_update_model_version(
    version: ModelVersion,
    *,
    actor: Actor,
    description: str | None = None,
    tags: dict | None = None,
    set_tags: dict | None = None,
    delete_tags: list[str] | None = None,
) -> ModelVersion:
    """A version's description and tags (the only mutable parts besides stage, aliases and
    archived); same argument rules as do_update_model."""
    changed = _edit(version, description=description, tags=tags, set_tags=set_tags, delete_tags=delete_tags)
    if changed:
        activity.record(version.workspace, actor, "model.version_updated", version.reference, fields=changed)
    return version


@transaction.atomic
def do_rename_model(model: Model, new_name: str, *, actor: Actor) -> Model:
    """Rename a model (its versions follow; files stay where they are). A taken name is a Conflict."""
    new_name = check_name(new_name)
    if new_name == model.name:
        return model
    if Model.objects.filter(workspace=model.workspace, name=new_name).exists():
        raise Conflict({"name": [f"There is already a model named {new_name!r}."]})
    old = model.name
    model.name = new_name
    model.updated_at = timezone.now()
    model.save(update_fields=["name", "updated_at"])
    activity.record(model.workspace, actor, "model.renamed", new_name, old_name=old)
    return model


@transaction.atomic
def do_set_alias(version: ModelVersion, alias: str, *, actor: Actor) -> ModelAlias:
    """Point `name@alias` at `version`, moving it from another version of the same model if it
    was elsewhere (an alias is unique per model)."""
    alias = check_alias(alias)
    row, created = ModelAlias.objects.select_for_update().get_or_create(
        model=version.model, alias=alias, defaults={"version": version, "workspace": version.workspace}
    )
    if not created and row.version_id != version.pk:
        row.version = version
        row.updated_at = timezone.now()
        row.save(update_fields=["version", "updated_at"])
    elif not created:
        return row
    activity.record(
        version.workspace, actor, "model.alias_set", f"{version.model.name}@{alias}", version=version.version
    )
    return row


@transaction.atomic
def do_delete_alias(model: Model, alias: str, *, actor: Actor) -> None:
    """Remove `name@alias`; an alias that does not exist is a ValidationError on `alias`."""
    deleted, _ = ModelAlias.objects.filter(model=model, alias=str(alias)).delete()
    if not deleted:
        raise ValidationError({"alias": [f"{model.name} has no alias {alias!r}."]})
    activity.record(model.workspace, actor, "model.alias_deleted", f"{model.name}@{alias}")


@transaction.atomic
def do_set_stage(version: ModelVersion, stage: str, *, actor: Actor, archive_existing: bool = False) -> ModelVersion:
    """MLflow's legacy stage transition. With `archive_existing`, other versions of the model
    in the same target stage (Staging or Production) move to Archived, as in MLflow."""
    stage = check_stage(stage)
    if archive_existing and stage in (ModelVersion.Stage.STAGING, ModelVersion.Stage.PRODUCTION):
        ModelVersion.objects.filter(model=version.model, stage=stage).exclude(pk=version.pk).update(
            stage=ModelVersion.Stage.ARCHIVED, updated_at=timezone.now()
        )
    if version.stage != stage:
        old = version.stage
        version.stage = stage
        version.updated_at = timezone.now()
        version.save(update_fields=["stage", "updated_at"])
        activity.record(version.workspace, actor, "model.stage_changed", version.reference, old=old, stage=stage)
    return version


def _set_archived(version: ModelVersion, archived: bool, *, actor: Actor, verb: str) -> ModelVersion:
    if version.archived != archived:
        version.archived = archived
        version.updated_at = timezone.now()
        version.save(update_fields=["archived", "updated_at"])
        activity.record(version.workspace, actor, verb, version.reference)
    return version


@transaction.atomic
def do_archive_model_version(version: ModelVersion, *, actor: Actor) -> ModelVersion:
    """Hide a version from lists and from @latest (jobs that name it exactly still can)."""
    return _set_archived(version, True, actor=actor, verb="model.archived")


@transaction.atomic
def do_restore_model_version(version: ModelVersion, *, actor: Actor) -> ModelVersion:
    """Bring an archived version back into lists and @latest."""
    return _set_archived(version, False, actor=actor, verb="model.restored")


def _remove_files_on_commit(rows: list[tuple[Datastore, str]]) -> None:
    def remove() -> None:
        for datastore, folder in rows:
            try:
                store_for(datastore).rm(folder, recursive=True)
            except (StorageError, ValidationError):
                pass  # the rows are gone; a leftover folder is only space

    transaction.on_commit(remove)


@transaction.atomic
def do_delete_model_version(version: ModelVersion, *, actor: Actor) -> None:
    """Delete a version and its files for good (MLflow's delete_model_version; the REST API's
    DELETE archives instead). A model left with no versions stays, like in MLflow."""
    _remove_files_on_commit([(version.datastore, version.storage_path)])
    reference, workspace = version.reference, version.workspace
    version.delete()
    activity.record(workspace, actor, "model.version_deleted", reference)


@transaction.atomic
def do_delete_model(model: Model, *, actor: Actor) -> None:
    """Delete a model with all its versions and their files (MLflow's delete_registered_model)."""
    _remove_files_on_commit([(v.datastore, v.storage_path) for v in model.versions.select_related("datastore")])
    name, workspace = model.name, model.workspace
    model.delete()
    activity.record(workspace, actor, "model.deleted", name)


def record_usage(
    version: ModelVersion | int, job_name: str, *, direction: str = ModelUsage.Direction.INPUT, port: str = ""
) -> ModelUsage:
    """Lineage: job `job_name` read (input) or wrote (output) this version. Idempotent."""
    if not isinstance(version, ModelVersion):
        version = ModelVersion.objects.get(pk=version)
    return ModelUsage.record(version, job_name, direction=direction, port=port)
