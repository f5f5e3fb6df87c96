"""Pages of the tracking app: a run's MLflow artifacts, under the job's URLs."""

from django.urls import path

from tracking import views

app_name = "tracking"

J = "w/<str:workspace>/jobs/<str:name>/artifacts/"
urlpatterns = [
    path(J, views.RunArtifactsView.as_view(), name="run_artifacts"),
    path(J + "zip/", views.RunArtifactsZipView.as_view(), name="run_artifacts_zip"),
    path(J + "file/<path:path>", views.RunArtifactFileView.as_view(), name="run_artifact_file"),
]
