"""Pages of the jobs app, under /w/<workspace>/jobs/ and /w/<workspace>/experiments/."""

from django.urls import path

from jobs.views import actions, detail, lists, logs, metrics, notices, submit
from studio.views.moved import job_page_or_form

app_name = "jobs"

J = "w/<str:workspace>/jobs/"
E = "w/<str:workspace>/experiments/"

urlpatterns = [
    path("notifications/jobs/", notices.EndedJobsFeedView.as_view(), name="ended_jobs_feed"),
    path("account/notifications/", notices.NotificationSettingsView.as_view(), name="notification_settings"),
    path(J, lists.JobListView.as_view(), name="job_list"),
    path(J + "bulk/", actions.JobBulkView.as_view(), name="job_bulk"),
    path("w/<str:workspace>/new/job/", submit.JobCreateView.as_view(), name="job_create"),
    path("w/<str:workspace>/new/job/versions/", submit.EnvironmentVersionsView.as_view(), name="job_env_versions"),
    path(J + "new/", job_page_or_form(detail.JobDetailView.as_view(), "jobs:job_create")),
    path(J + "<str:name>/", detail.JobDetailView.as_view(), name="job_detail"),
    path(J + "<str:name>/outputs/", detail.JobDetailView.as_view(tab="outputs"), name="job_outputs"),
    # The tab loads its body from ".../metrics/partial/" and its charts from ".../metrics/series/".
    path(J + "<str:name>/metrics/", detail.JobDetailView.as_view(tab="metrics"), name="job_metrics"),
    path(J + "<str:name>/metrics/partial/", metrics.JobMetricsPartialView.as_view(), name="job_metrics_partial"),
    path(J + "<str:name>/metrics/series/", metrics.JobMetricSeriesView.as_view(), name="job_series"),
    path(J + "<str:name>/metrics/csv/", metrics.JobMetricsCsvView.as_view(), name="job_metrics_csv"),
    path(J + "<str:name>/code/", detail.JobDetailView.as_view(tab="code"), name="job_code"),
    path(J + "<str:name>/environment/", detail.JobDetailView.as_view(tab="environment"), name="job_environment"),
    path(J + "<str:name>/status/", detail.JobStatusView.as_view(), name="job_status"),
    path(J + "<str:name>/cancel/", actions.JobCancelView.as_view(), name="job_cancel"),
    path(J + "<str:name>/delete/", actions.JobDeleteView.as_view(), name="job_delete"),
    path(J + "<str:name>/log/", logs.LogSliceView.as_view(), name="job_log"),
    path(J + "<str:name>/log/stream/", logs.LogStreamView.as_view(), name="job_log_stream"),
    path(J + "<str:name>/log/download/", logs.LogDownloadView.as_view(), name="job_log_download"),
    path(J + "<str:name>/files/outputs/<path:path>", logs.OutputDownloadView.as_view(), name="job_output_file"),
    path(J + "<str:name>/files/code/<path:path>", logs.CodeFileView.as_view(), name="job_code_file"),
    path(E, lists.ExperimentListView.as_view(), name="experiment_list"),
    path(E + "<str:name>/", lists.ExperimentDetailView.as_view(), name="experiment_detail"),
    path(E + "<str:experiment>/compare/", metrics.ExperimentCompareView.as_view(), name="experiment_compare"),
]
