from django.urls import path

from endpoints import router, views_metrics
from endpoints.batch import views as batch_views

app_name = "endpoints"

urlpatterns = [
    path("endpoints/<str:workspace>/<str:name>/score", router.score, name="score"),
    # Parts of the endpoint page (its Metrics and Comparison tabs), refreshed by htmx.
    path(
        "w/<str:workspace>/endpoints/<str:name>/metrics/data/",
        views_metrics.EndpointMetricsView.as_view(),
        name="endpoint_metrics",
    ),
    path(
        "w/<str:workspace>/endpoints/<str:name>/comparison/data/",
        views_metrics.MirrorComparisonView.as_view(),
        name="mirror_comparison",
    ),
    path("w/<str:workspace>/batch-endpoints/", batch_views.BatchEndpointListView.as_view(), name="batch_endpoint_list"),
    path(
        "w/<str:workspace>/batch-endpoints/<str:name>/",
        batch_views.BatchEndpointDetailView.as_view(),
        name="batch_endpoint_detail",
    ),
    path("w/<str:workspace>/batch-jobs/<str:name>/", batch_views.BatchJobView.as_view(), name="batch_job"),
]
