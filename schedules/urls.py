"""Pages of the schedules app, under /w/<workspace>/schedules/."""

from django.urls import path

from schedules import views

app_name = "schedules"

urlpatterns = [
    path("w/<str:workspace>/schedules/", views.ScheduleListView.as_view(), name="schedule_list"),
    path("w/<str:workspace>/schedules/new/", views.ScheduleCreateView.as_view(), name="schedule_create"),
    path("w/<str:workspace>/schedules/new/yaml/", views.ScheduleYAMLView.as_view(), name="schedule_yaml"),
    path("w/<str:workspace>/schedules/<str:name>/", views.ScheduleDetailView.as_view(), name="schedule_detail"),
    path(
        "w/<str:workspace>/schedules/<str:name>/enable/",
        views.ScheduleActionView.as_view(verb="enable"),
        name="schedule_enable",
    ),
    path(
        "w/<str:workspace>/schedules/<str:name>/disable/",
        views.ScheduleActionView.as_view(verb="disable"),
        name="schedule_disable",
    ),
    path(
        "w/<str:workspace>/schedules/<str:name>/delete/",
        views.ScheduleActionView.as_view(verb="delete"),
        name="schedule_delete",
    ),
]
