"""Pages of the sweeps app, under /w/<workspace>/sweeps/."""

from django.urls import path

from studio.views.moved import job_page_or_form
from sweeps import views

app_name = "sweeps"

urlpatterns = [
    path("w/<str:workspace>/new/sweep/", views.SweepCreateView.as_view(), name="sweep_create"),
    path("w/<str:workspace>/sweeps/new/", job_page_or_form(views.SweepDetailView.as_view(), "sweeps:sweep_create")),
    path("w/<str:workspace>/sweeps/<str:name>/", views.SweepDetailView.as_view(), name="sweep_detail"),
    path("w/<str:workspace>/sweeps/<str:name>/data/", views.SweepDataView.as_view(), name="sweep_data"),
]
