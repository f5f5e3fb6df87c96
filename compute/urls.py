"""Pages of the compute app, under /w/<workspace>/compute/."""

from django.urls import path

from compute import views

app_name = "compute"

C = "w/<str:workspace>/compute/"

urlpatterns = [
    path(C, views.ComputeListView.as_view(), name="compute_list"),
    path(C + "new/", views.ComputeCreateView.as_view(), name="compute_create"),
    path(C + "new/yaml/", views.ComputeYAMLView.as_view(), name="compute_create_yaml"),
    path(C + "<str:name>/", views.ComputeDetailView.as_view(), name="compute_detail"),
    path(C + "<str:name>/edit/", views.ComputeEditView.as_view(), name="compute_edit"),
    path(C + "<str:name>/delete/", views.ComputeDeleteView.as_view(), name="compute_delete"),
    path(C + "<str:name>/start/", views.ComputeStartView.as_view(), name="compute_start"),
    path(C + "<str:name>/stop/", views.ComputeStopView.as_view(), name="compute_stop"),
    path(C + "<str:name>/probe/", views.ComputeProbeView.as_view(), name="compute_probe"),
    path(C + "<str:name>/nodes/start/", views.NodeStartView.as_view(), name="node_start"),
    path(C + "<str:name>/nodes/<int:node>/drain/", views.NodeDrainView.as_view(), name="node_drain"),
]
