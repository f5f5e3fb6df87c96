"""Pages of the datastores app, under /w/<workspace>/."""

from django.urls import path

from datastores.views import data, datastores

app_name = "datastores"

D = "w/<str:workspace>/datastores/"
A = "w/<str:workspace>/data/"

urlpatterns = [
    path(D, datastores.DatastoreListView.as_view(), name="datastore_list"),
    path(D + "new/", datastores.DatastoreCreateView.as_view(), name="datastore_create"),
    path(D + "<str:name>/", datastores.DatastoreDetailView.as_view(), name="datastore_detail"),
    path(D + "<str:name>/edit/", datastores.DatastoreEditView.as_view(), name="datastore_edit"),
    path(D + "<str:name>/default/", datastores.DatastoreDefaultView.as_view(), name="datastore_default"),
    path(D + "<str:name>/delete/", datastores.DatastoreDeleteView.as_view(), name="datastore_delete"),
    path(D + "<str:name>/upload/", datastores.DatastoreUploadView.as_view(), name="datastore_upload"),
    path(D + "<str:name>/download/", datastores.DatastoreDownloadView.as_view(), name="datastore_download"),
    path(D + "<str:name>/delete-path/", datastores.DatastorePathDeleteView.as_view(), name="datastore_path_delete"),
    path(A, data.DataListView.as_view(), name="data_list"),
    path(A + "new/", data.DataCreateView.as_view(), name="data_create"),
    path(A + "<str:name>/", data.DataDetailView.as_view(), name="data_detail"),
    path(A + "<str:name>/preview/", data.DataPreviewView.as_view(), name="data_preview"),
    path(A + "<str:name>/versions/<str:version>/archive/", data.DataArchiveView.as_view(), name="data_archive"),
]
