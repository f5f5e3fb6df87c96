"""Pages of the pipelines app, under /w/<workspace>/."""

from django.urls import path

from pipelines import views
from studio.views.moved import job_page_or_form

app_name = "pipelines"

C = "w/<str:workspace>/components/"
P = "w/<str:workspace>/pipelines/"

urlpatterns = [
    path(C, views.ComponentListView.as_view(), name="component_list"),
    path(C + "<str:name>/versions/<str:version>/", views.ComponentVersionView.as_view(), name="component_version"),
    path(C + "<str:name>/", views.ComponentLatestView.as_view(), name="component_detail"),
    path("w/<str:workspace>/new/pipeline/", views.PipelineSubmitView.as_view(), name="pipeline_create"),
    path(P + "new/", job_page_or_form(views.PipelineDetailView.as_view(), "pipelines:pipeline_create")),
    path(P + "<str:name>/", views.PipelineDetailView.as_view(), name="pipeline_detail"),
    path(P + "<str:name>/graph.json", views.PipelineGraphView.as_view(), name="pipeline_graph"),
    path(P + "<str:name>/steps/<str:step>/", views.StepPanelView.as_view(), name="step_panel"),
    path(P + "<str:name>/steps/<str:step>/rerun/", views.RerunFromStepView.as_view(), name="step_rerun"),
]
