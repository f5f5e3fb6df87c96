from django.urls import path

from endpoints import router
from endpoints.batch import views as batch_views

app_name = "endpoints"

urlpatterns = [
    path("endpoints/<str:workspace>/<str:name>/score", router.score, name="score"),
    path("w/<str:workspace>/batch-endpoints/", batch_views.BatchEndpointListView.as_view(), name="batch_endpoint_list"),
    path(
        "w/<str:workspace>/batch-endpoints/<str:name>/",
        batch_views.BatchEndpointDetailView.as_view(),
        name="batch_endpoint_detail",
    ),
    path("w/<str:workspace>/batch-jobs/<str:name>/", batch_views.BatchJobView.as_view(), name="batch_job"),
]
