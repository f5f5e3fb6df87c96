"""The MLflow REST API under /mlflow/ (MLFLOW_TRACKING_URI=<server>/mlflow), and the same under
/mlflow/w/<workspace>/ for people who belong to several workspaces."""

from django.urls import include, path, re_path

from jobs.views.metrics import MlflowLinkView
from tracking.api import artifacts, experiments, logged_models, multipart, registry, runs

P = "api/2.0/mlflow/"
api = [
    path(P + "runs/get", runs.get_run),
    path(P + "runs/update", runs.update_run),
    path(P + "runs/create", runs.create_run),
    path(P + "runs/log-metric", runs.log_metric),
    path(P + "runs/log-parameter", runs.log_parameter),
    path(P + "runs/set-tag", runs.set_tag),
    path(P + "runs/delete-tag", runs.delete_tag),
    path(P + "runs/log-batch", runs.log_batch),
    path(P + "runs/log-inputs", runs.log_inputs),
    path(P + "runs/outputs", runs.log_outputs),
    path(P + "runs/search", runs.search_runs),
    path(P + "metrics/get-history", runs.metric_history),
    path(P + "experiments/get", experiments.get_experiment),
    path(P + "experiments/get-by-name", experiments.get_experiment_by_name),
    path(P + "experiments/create", experiments.create_experiment),
    path(P + "experiments/search", experiments.search_experiments),
    path(P + "logged-models", logged_models.create),
    path(P + "logged-models/search", logged_models.search),
    path(P + "logged-models/<str:model_id>", logged_models.detail),
    path(P + "logged-models/<str:model_id>/tags", logged_models.set_tags),
    path(P + "logged-models/<str:model_id>/tags/<path:key>", logged_models.delete_tag),
    path(P + "logged-models/<str:model_id>/params", logged_models.log_params),
    path(P + "logged-models/<str:model_id>/artifacts/directories", logged_models.list_model_artifacts),
    re_path(r"^api/2\.0/mlflow-artifacts/artifacts/?$", artifacts.list_artifacts),
    re_path(r"^api/2\.0/mlflow-artifacts/artifacts/(?P<path>.+)$", artifacts.artifact),
    path("api/3.0/mlflow/server-info", artifacts.server_info),
    re_path(r"^api/2\.0/mlflow-artifacts/mpu/create/(?P<path>.+)$", multipart.create),
    re_path(r"^api/2\.0/mlflow-artifacts/mpu/complete/(?P<path>.+)$", multipart.complete),
    re_path(r"^api/2\.0/mlflow-artifacts/mpu/abort/(?P<path>.+)$", multipart.abort),
    path("api/2.0/mlflow-artifacts/mpu/part/<str:token>", multipart.part),
    path(P + "registered-models/create", registry.create_model),
    path(P + "registered-models/get", registry.get_model),
    path(P + "registered-models/rename", registry.rename_model),
    path(P + "registered-models/update", registry.update_model),
    path(P + "registered-models/delete", registry.delete_model),
    path(P + "registered-models/set-tag", registry.set_model_tag),
    path(P + "registered-models/delete-tag", registry.delete_model_tag),
    path(P + "registered-models/search", registry.search_models),
    path(P + "registered-models/get-latest-versions", registry.latest_versions),
    path(P + "registered-models/alias", registry.alias),
    path(P + "model-versions/create", registry.create_version),
    path(P + "model-versions/get", registry.get_version),
    path(P + "model-versions/update", registry.update_version),
    path(P + "model-versions/delete", registry.delete_version),
    path(P + "model-versions/set-tag", registry.set_version_tag),
    path(P + "model-versions/delete-tag", registry.delete_version_tag),
    path(P + "model-versions/transition-stage", registry.transition_stage),
    path(P + "model-versions/get-download-uri", registry.download_uri),
    path(P + "model-versions/search", registry.search_versions),
]

# Anything else under api/ answers in MLflow's error shape, so a client prints a clear message
# instead of an HTML page.
api.append(re_path(r"^api/.*$", artifacts.not_found))

app_name = "mlflow_api"
urlpatterns = [
    path("", MlflowLinkView.as_view(), name="mlflow_link"),
    path("w/<str:ws>/", include(api)),
    *api,
]
