"""The MLflow model registry endpoints (registered-models/*, model-versions/*) over the registry
app's models: one registry, so a model registered with `mlflow.register_model` is the same object
as one made from the Models page, the REST API or `studio model create`.

Reading needs `workspace.view` (a job's token reads its own workspace's models); writing needs
`models.write` (a job's token acts for its submitter)."""

from __future__ import annotations

from registry import services as registry
from registry.models import Model, ModelAlias, ModelVersion
from studio.models import Workspace
from studio.permissions import can
from tracking.api.common import endpoint, int_param
from tracking.artifacts import registered_version_uri
from tracking.errors import MlflowError
from tracking.payloads import ms
from tracking.search import _mlflow

WRITE = "models.write"


def _workspace_for(caller, name: str | None, *, write: bool = False) -> Workspace:
    """The workspace a model name lives in (or, for a new name, where it goes)."""
    if caller.job is not None:
        workspace = caller.job.workspace
    elif caller.workspace is not None:
        workspace = caller.workspace
    else:
        visible = caller.workspaces()
        holding = list(visible.filter(models__name=name).distinct()[:2]) if name else []
        if len(holding) > 1:
            raise MlflowError(f"Several of your workspaces have a model {name!r}: use <server>/mlflow/w/<workspace>.")
        if holding:
            workspace = holding[0]
        elif not write:
            raise MlflowError(f"Registered Model with name={name} not found", "RESOURCE_DOES_NOT_EXIST")
        else:
            choices = list(caller.workspaces(WRITE)[:2])
            if not choices:
                raise MlflowError("You may not register models in any of your workspaces.", "PERMISSION_DENIED")
            if len(choices) > 1:
                raise MlflowError(
                    "You belong to several workspaces: set MLFLOW_TRACKING_URI to <server>/mlflow/w/<workspace>."
                )
            workspace = choices[0]
    if write and not can(caller.actor, workspace, WRITE):
        raise MlflowError(f"You may not change models in {workspace.name}.", "PERMISSION_DENIED")
    return workspace


def _model(caller, name, *, write: bool = False) -> Model:
    if not name:
        raise MlflowError("name is required.")
    workspace = _workspace_for(caller, name, write=write)
    model = Model.objects.filter(workspace=workspace, name=name).select_related("workspace").first()
    if model is None:
        raise MlflowError(f"Registered Model with name={name} not found", "RESOURCE_DOES_NOT_EXIST")
    return model


def _version(caller, params, *, write: bool = False) -> ModelVersion:
    model = _model(caller, params.get("name"), write=write)
    version = (
        ModelVersion.objects.filter(model=model, version=str(params.get("version")))
        .select_related("model", "workspace", "job", "created_by")
        .first()
    )
    if version is None:
        raise MlflowError(
            f"Model Version (name={model.name}, version={params.get('version')}) not found", "RESOURCE_DOES_NOT_EXIST"
        )
    return version


def version_dict(version: ModelVersion) -> dict:
    return {
        "name": version.model.name,
        "version": version.version,
        "creation_timestamp": ms(version.created_at),
        "last_updated_timestamp": ms(version.updated_at),
        "user_id": version.created_by.get_username() if version.created_by else "",
        "current_stage": version.stage,
        "description": version.description,
        "source": version.source,
        "run_id": version.job_name,
        "status": "READY",
        "tags": [{"key": k, "value": v} for k, v in sorted(version.tags.items())],
        "aliases": sorted(a.alias for a in version.aliases.all()),
    }


def model_dict(model: Model) -> dict:
    versions = registry.latest_versions(ModelVersion.objects.filter(model=model))
    return {
        "name": model.name,
        "creation_timestamp": ms(model.created_at),
        "last_updated_timestamp": ms(model.updated_at),
        "description": model.description,
        "tags": [{"key": k, "value": v} for k, v in sorted(model.tags.items())],
        "aliases": [{"alias": a.alias, "version": a.version.version} for a in model.aliases.select_related("version")],
        "latest_versions": [version_dict(v) for v in versions],
    }


def _tags(items) -> dict:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MlflowError("tags must be a list of {key, value} objects.")
    return {str(i.get("key")): str(i.get("value", "")) for i in items}


# --- registered models ---------------------------------------------------------------------------


@endpoint("POST")
def create_model(request, caller, params):
    name = str(params.get("name") or "")
    workspace = _workspace_for(caller, name, write=True)
    model = registry.do_create_model(
        workspace,
        actor=caller.actor,
        name=name,
        description=params.get("description") or "",
        tags=_tags(params.get("tags") or []),
    )
    return {"registered_model": model_dict(model)}


@endpoint("GET")
def get_model(request, caller, params):
    return {"registered_model": model_dict(_model(caller, params.get("name")))}


@endpoint("POST")
def rename_model(request, caller, params):
    model = _model(caller, params.get("name"), write=True)
    model = registry.do_rename_model(model, str(params.get("new_name") or ""), actor=caller.actor)
    return {"registered_model": model_dict(model)}


@endpoint("PATCH")
def update_model(request, caller, params):
    model = _model(caller, params.get("name"), write=True)
    registry.do_update_model(model, actor=caller.actor, description=params.get("description"))
    return {"registered_model": model_dict(model)}


@endpoint("DELETE")
def delete_model(request, caller, params):
    registry.do_delete_model(_model(caller, params.get("name"), write=True), actor=caller.actor)


@endpoint("POST")
def set_model_tag(request, caller, params):
    model = _model(caller, params.get("name"), write=True)
    registry.do_update_model(model, actor=caller.actor, set_tags={str(params.get("key")): str(params.get("value", ""))})


@endpoint("DELETE")
def delete_model_tag(request, caller, params):
    model = _model(caller, params.get("name"), write=True)
    registry.do_update_model(model, actor=caller.actor, delete_tags=[str(params.get("key"))])


@endpoint("GET", "POST")
def search_models(request, caller, params):
    from mlflow.entities.model_registry import RegisteredModel
    from mlflow.utils.search_utils import SearchModelUtils, SearchUtils

    max_results = int_param(params.get("max_results"), "max_results", 100, 1000)
    workspaces = caller.workspaces().values("pk") if caller.workspace is None else [caller.workspace.pk]
    models = {m.name: m for m in Model.objects.filter(workspace__in=workspaces).order_by("name")}
    entities = [
        RegisteredModel(name, ms(m.created_at), ms(m.updated_at), m.description, tags=None)
        for name, m in models.items()
    ]
    for entity, model in zip(entities, models.values(), strict=True):
        entity._tags = dict(model.tags)
    entities = _mlflow(SearchModelUtils.filter, entities, params.get("filter") or "")
    order_by = params.getlist("order_by") if hasattr(params, "getlist") else params.get("order_by") or []
    entities = _mlflow(SearchModelUtils.sort, entities, order_by or ["name ASC"])
    offset = _mlflow(SearchUtils.parse_start_offset_from_page_token, params.get("page_token") or None)
    page = entities[offset : offset + max_results]
    out = {"registered_models": [model_dict(models[e.name]) for e in page]}
    if offset + max_results < len(entities):
        out["next_page_token"] = SearchUtils.create_page_token(offset + max_results).decode()
    return out


@endpoint("POST")
def latest_versions(request, caller, params):
    model = _model(caller, params.get("name"))
    stages = params.get("stages") or []
    versions = ModelVersion.objects.filter(model=model, archived=False)
    out = []
    for stage in stages or ModelVersion.Stage.values:
        newest = registry.latest_versions(versions.filter(stage=stage))
        out.extend(newest)
    return {"model_versions": [version_dict(v) for v in out]}


@endpoint("GET", "POST", "DELETE")
def alias(request, caller, params):
    if request.method == "GET":
        model = _model(caller, params.get("name"))
        found = ModelAlias.objects.filter(model=model, alias=params.get("alias")).select_related("version").first()
        if found is None:
            raise MlflowError(f"Registered model alias {params.get('alias')} not found.", "RESOURCE_DOES_NOT_EXIST")
        return {"model_version": version_dict(_version(caller, {"name": model.name, "version": found.version.version}))}
    if request.method == "DELETE":
        registry.do_delete_alias(
            _model(caller, params.get("name"), write=True), str(params.get("alias")), actor=caller.actor
        )
        return {}
    version = _version(caller, params, write=True)
    registry.do_set_alias(version, str(params.get("alias") or ""), actor=caller.actor)
    return {}


# --- model versions ------------------------------------------------------------------------------


@endpoint("POST")
def create_version(request, caller, params):
    name = str(params.get("name") or "")
    workspace = _workspace_for(caller, name, write=True)
    source = str(params.get("source") or "")
    if params.get("model_id") and not source.startswith("models:/"):
        source = f"models:/{params['model_id']}"
    version = registry.do_create_model_version(
        workspace,
        actor=caller.actor,
        name=name,
        path=source,
        description=params.get("description") or "",
        tags=_tags(params.get("tags") or []),
    )
    return {"model_version": version_dict(_version(caller, {"name": name, "version": version.version}))}


@endpoint("GET")
def get_version(request, caller, params):
    return {"model_version": version_dict(_version(caller, params))}


@endpoint("PATCH")
def update_version(request, caller, params):
    version = _version(caller, params, write=True)
    registry.do_update_model_version(version, actor=caller.actor, description=params.get("description"))
    return {"model_version": version_dict(version)}


@endpoint("DELETE")
def delete_version(request, caller, params):
    registry.do_delete_model_version(_version(caller, params, write=True), actor=caller.actor)


@endpoint("POST")
def set_version_tag(request, caller, params):
    version = _version(caller, params, write=True)
    registry.do_update_model_version(
        version, actor=caller.actor, set_tags={str(params.get("key")): str(params.get("value", ""))}
    )


@endpoint("DELETE")
def delete_version_tag(request, caller, params):
    version = _version(caller, params, write=True)
    registry.do_update_model_version(version, actor=caller.actor, delete_tags=[str(params.get("key"))])


@endpoint("POST")
def transition_stage(request, caller, params):
    version = _version(caller, params, write=True)
    archive = str(params.get("archive_existing_versions", "")).lower() == "true"
    registry.do_set_stage(version, str(params.get("stage") or ""), actor=caller.actor, archive_existing=archive)
    return {"model_version": version_dict(version)}


@endpoint("GET")
def download_uri(request, caller, params):
    return {"artifact_uri": registered_version_uri(_version(caller, params))}


@endpoint("GET", "POST")
def search_versions(request, caller, params):
    from mlflow.entities.model_registry import ModelVersion as MlflowVersion
    from mlflow.utils.search_utils import SearchModelVersionUtils, SearchUtils

    max_results = int_param(params.get("max_results"), "max_results", 10000, 200000)
    workspaces = caller.workspaces().values("pk") if caller.workspace is None else [caller.workspace.pk]
    rows = list(
        ModelVersion.objects.filter(workspace__in=workspaces)
        .select_related("model", "workspace", "created_by")
        .prefetch_related("aliases")
    )
    entities = []
    for row in rows:
        entity = MlflowVersion(
            row.model.name,
            row.version,
            ms(row.created_at),
            ms(row.updated_at),
            row.description,
            source=row.source,
            run_id=row.job_name,
            current_stage=row.stage,
            tags=row.tags,
        )
        entities.append(entity)
    by_key = {(r.model.name, r.version): r for r in rows}
    entities = _mlflow(SearchModelVersionUtils.filter, entities, params.get("filter") or "")
    order_by = params.getlist("order_by") if hasattr(params, "getlist") else params.get("order_by") or []
    entities = _mlflow(SearchModelVersionUtils.sort, entities, order_by or ["last_updated_timestamp DESC"])
    offset = _mlflow(SearchUtils.parse_start_offset_from_page_token, params.get("page_token") or None)
    page = entities[offset : offset + max_results]
    out = {"model_versions": [version_dict(by_key[(e.name, e.version)]) for e in page]}
    if offset + max_results < len(entities):
        out["next_page_token"] = SearchUtils.create_page_token(offset + max_results).decode()
    return out
