"""Pages of the registry app (models), under /w/<workspace>/models/."""

from django.urls import path

from registry import views

app_name = "registry"

M = "w/<str:workspace>/models/"
V = M + "<str:name>/versions/<str:version>/"

urlpatterns = [
    path(M, views.ModelListView.as_view(), name="model_list"),
    path(M + "new/", views.RegisterView.as_view(), name="model_create"),
    path(M + "<str:name>/", views.ModelDetailView.as_view(), name="model_detail"),
    path(M + "<str:name>/edit/", views.ModelEditView.as_view(), name="model_edit"),
    path(V, views.VersionDetailView.as_view(), name="version_detail"),
    path(V + "preview/", views.FilePreviewView.as_view(), name="version_preview"),
    path(V + "file/", views.FileDownloadView.as_view(), name="version_file"),
    path(V + "download/", views.ZipDownloadView.as_view(), name="version_download"),
    path(V + "action/", views.VersionActionView.as_view(), name="version_action"),
]
