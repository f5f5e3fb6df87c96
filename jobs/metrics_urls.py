from django.urls import path

from jobs.views_metrics import ExperimentCompareView, JobMetricsCsvView, JobMetricSeriesView, JobMetricsPartialView

app_name = "job_metrics"

urlpatterns = [
    path("w/<str:workspace>/jobs/<str:name>/metrics/partial/", JobMetricsPartialView.as_view(), name="job_metrics"),
    path("w/<str:workspace>/jobs/<str:name>/metrics/series/", JobMetricSeriesView.as_view(), name="job_series"),
    path("w/<str:workspace>/jobs/<str:name>/metrics/csv/", JobMetricsCsvView.as_view(), name="job_metrics_csv"),
    path(
        "w/<str:workspace>/experiments/<str:experiment>/compare/",
        ExperimentCompareView.as_view(),
        name="experiment_compare",
    ),
]
