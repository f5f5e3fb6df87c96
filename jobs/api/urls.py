from django.urls import re_path
from rest_framework.routers import SimpleRouter

from jobs.api import metrics, views

WS = r"workspaces/(?P<workspace>[^/.]+)"

router = SimpleRouter()
router.register(rf"{WS}/jobs/(?P<name>[^/]+)/metrics", metrics.JobMetricsViewSet, basename="job-metrics")
router.register(rf"{WS}/jobs", views.JobViewSet, basename="job")
router.register(rf"{WS}/codes", views.CodeViewSet, basename="code")
router.register(rf"{WS}/experiments", views.ExperimentViewSet, basename="experiment")

urlpatterns = [
    # One output file: /outputs/<path> with no trailing slash, so file names read as they are.
    re_path(
        rf"^{WS}/jobs/(?P<name>[^/]+)/outputs/(?P<path>.*[^/])$",
        views.JobViewSet.as_view({"get": "output_file"}),
        name="job-output-file",
    ),
    *router.urls,
]
