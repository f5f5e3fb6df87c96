"""Pages of the environments app, under /w/<workspace>/environments/."""

from django.urls import path

from environments import views

app_name = "environments"

E = "w/<str:workspace>/environments/"
V = E + "<str:name>/versions/<str:version>/"

urlpatterns = [
    path(E, views.EnvironmentListView.as_view(), name="environment_list"),
    path(E + "new/", views.EnvironmentCreateView.as_view(), name="environment_create"),
    path(E + "<str:name>/", views.VersionDetailView.as_view(), name="environment_detail"),
    path(V, views.VersionDetailView.as_view(), name="version_detail"),
    path(V + "yaml/", views.VersionYamlView.as_view(), name="version_yaml"),
    path(V + "archive/", views.VersionArchiveView.as_view(), name="version_archive"),
    path(V + "build/", views.BuildStartView.as_view(), name="build_start"),
    path(E + "<str:name>/builds/<int:build_id>/log/", views.BuildLogView.as_view(), name="build_log"),
]
