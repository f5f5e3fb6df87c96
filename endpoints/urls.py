from django.urls import path

from endpoints import router, views_metrics

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
]
