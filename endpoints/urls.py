from django.urls import path

from endpoints import router, views, views_logs, views_metrics
from endpoints.batch import views as batch_views

app_name = "endpoints"

W = "w/<str:workspace>/endpoints/"
E = W + "<str:name>/"
D = E + "deployments/<str:deployment>/"

urlpatterns = [
    path("endpoints/<str:workspace>/<str:name>/score", router.score, name="score"),
    path(W, views.EndpointListView.as_view(), name="endpoint_list"),
    path(W + "new/", views.EndpointCreateView.as_view(), name="endpoint_create"),
    path(W + "deploy/", views.DeployView.as_view(), name="deploy"),
    path(E + "rows/", views.DeploymentRowsView.as_view(), name="deployment_rows"),
    path(E + "traffic/", views.TrafficView.as_view(), name="traffic"),
    path(E + "keys/", views.KeysView.as_view(), name="keys"),
    path(E + "keys/regenerate/", views.RegenerateKeyView.as_view(), name="regenerate_key"),
    path(E + "delete/", views.EndpointDeleteView.as_view(), name="endpoint_delete"),
    # The Metrics and Comparison tabs' parts, refreshed by htmx (a page of their own when visited).
    path(E + "metrics/data/", views_metrics.EndpointMetricsView.as_view(), name="endpoint_metrics"),
    path(E + "comparison/data/", views_metrics.MirrorComparisonView.as_view(), name="mirror_comparison"),
    path(D + "delete/", views.DeploymentDeleteView.as_view(), name="deployment_delete"),
    path(D + "scale/", views.ScaleView.as_view(), name="deployment_scale"),
    path(D + "log/", views_logs.DeploymentLogSliceView.as_view(), name="deployment_log"),
    path(D + "log/stream/", views_logs.DeploymentLogStreamView.as_view(), name="deployment_log_stream"),
    path(D + "log/download/", views_logs.DeploymentLogDownloadView.as_view(), name="deployment_log_download"),
    path(E, views.EndpointDetailView.as_view(), {"tab": "deployments"}, name="endpoint_home"),
    path(E + "<str:tab>/", views.EndpointDetailView.as_view(), name="endpoint_detail"),
    path("w/<str:workspace>/batch-endpoints/", batch_views.BatchEndpointListView.as_view(), name="batch_endpoint_list"),
    path(
        "w/<str:workspace>/batch-endpoints/<str:name>/",
        batch_views.BatchEndpointDetailView.as_view(),
        name="batch_endpoint_detail",
    ),
    path("w/<str:workspace>/batch-jobs/<str:name>/", batch_views.BatchJobView.as_view(), name="batch_job"),
]
