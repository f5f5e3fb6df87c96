"""The job page: a header that follows the status live, and tabs (Overview, Outputs + logs,
Metrics, Code, Environment)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.generic import TemplateView

from jobs import artifacts, children, code, logfiles
from jobs.api.serializers import inputs_as_yaml
from jobs.models import JobStatus, JobType
from jobs.views.base import JobMixin
from jobs.waits import queue_wait_reason

TABS = [
    ("overview", "Overview", "jobs:job_detail"),
    ("outputs", "Outputs + logs", "jobs:job_outputs"),
    ("metrics", "Metrics", "jobs:job_metrics"),
    ("code", "Code", "jobs:job_code"),
    ("environment", "Environment", "jobs:job_environment"),
]
PHASES = [
    (JobStatus.QUEUED, "queued_at", "started_at"),
    (JobStatus.PREPARING, "started_at", "running_at"),
    (JobStatus.RUNNING, "running_at", "finalizing_at"),
    (JobStatus.FINALIZING, "finalizing_at", "ended_at"),
]
CODE_PREVIEW_BYTES = 256 * 1024
# The runner still writes its last system-log lines just after the job turns final: the file
# lists keep re-reading themselves this long after the end, so the last answer is the whole truth.
FILES_SETTLE_SECONDS = 10


def phases(job) -> list[dict]:
    """The timeline: each phase the job went through, with its start and duration."""
    out = []
    now = timezone.now()
    for status, start_field, end_field in PHASES:
        start = getattr(job, start_field)
        if start is None:
            continue
        end = getattr(job, end_field) or (job.ended_at if job.is_final else None)
        # A phase skipped (e.g. canceled while queued) ends when the job ended.
        current = end is None and job.status == status
        out.append(
            {
                "status": status,
                "start": start,
                "end": end,
                "seconds": ((end or now) - start).total_seconds(),
                "current": current,
            }
        )
    return out


def header_context(job, workspace) -> dict:
    wait = job.wait_reason
    if job.status == JobStatus.QUEUED:
        wait = queue_wait_reason(job)
    # "Register model" pre-fills outputs/model: offered only when the job wrote that folder (a run's
    # MLflow logged models have their own Register buttons on the Outputs tab).
    folder = job.status == JobStatus.COMPLETED and (artifacts.outputs_root(job) / "model").is_dir()
    return {"job": job, "workspace": workspace, "wait_reason": wait, "phases": phases(job), "model_folder": folder}


class JobDetailView(JobMixin, TemplateView):
    template_name = "jobs/job_detail.html"
    tab = "overview"

    def get(self, request, *args, **kwargs):
        job = self.get_object()
        handler = children.handler_for(job.type) if job.type != JobType.COMMAND else None
        if handler is not None and handler.page and self.tab == "overview":  # a sweep has its own page
            return redirect(handler.page, self.workspace.name, job.name)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.get_object()
        context |= header_context(job, self.workspace)
        context["tab"] = self.tab
        context["tabs"] = TABS
        context["inputs"] = inputs_as_yaml(job)
        getattr(self, f"_context_{self.tab}")(job, context)
        return context

    def _context_overview(self, job, context) -> None:
        context["events"] = list(job.events.all())

    def _context_outputs(self, job, context) -> None:
        files = logfiles.list_files(job)
        context["log_files"] = files
        wanted = self.request.GET.get("file") or logfiles.DEFAULT_FILE
        context["selected_file"] = wanted if any(f["path"] == wanted for f in files) else logfiles.DEFAULT_FILE
        context["outputs"] = artifacts.list_outputs(job)
        settled = job.is_final and (
            job.ended_at is None or (timezone.now() - job.ended_at).total_seconds() > FILES_SETTLE_SECONDS
        )
        context["files_live"] = not settled

    def _context_metrics(self, job, context) -> None:
        """Nothing to add: the tab (jobs/_metrics.html) loads its own body while the job runs."""

    def _context_code(self, job, context) -> None:
        files = code.list_files(job.code) if job.code_id else []
        context["code_files"] = files
        wanted = self.request.GET.get("file") or _default_code_file(files)
        context["code_file"] = wanted
        context["code_text"], context["code_note"] = _preview(job, wanted) if wanted else ("", "")

    def _context_environment(self, job, context) -> None:
        version = job.environment_version
        context["version"] = version
        context["build"] = None
        build_id = (job.build_info or {}).get("build_id")
        if build_id:
            from environments.models import EnvironmentBuild

            context["build"] = EnvironmentBuild.objects.filter(pk=build_id).select_related("source").first()


def _default_code_file(files: list[dict]) -> str:
    paths = [f["path"] for f in files]
    for candidate in ("train.py", "main.py", "src/train.py", "README.md"):
        if candidate in paths:
            return candidate
    py = [p for p in paths if p.endswith(".py")]
    return (py or paths or [""])[0]


def _preview(job, rel: str) -> tuple[str, str]:
    path = code.open_file(job.code, rel) if job.code_id else None
    if path is None:
        return "", "No such file in the snapshot."
    data = path.read_bytes()[: CODE_PREVIEW_BYTES + 1]
    if b"\x00" in data[:8192]:
        return "", "A binary file: download it to look inside."
    note = "Showing the first 256 KiB." if len(data) > CODE_PREVIEW_BYTES else ""
    return data[:CODE_PREVIEW_BYTES].decode("utf-8", "replace"), note


class JobStatusView(JobMixin, TemplateView):
    """The live header (and, with ?part=overview, the overview body) for htmx polling; answers
    286 once the job is over so the polling stops."""

    def get(self, request, *args, **kwargs):
        job = self.get_object()
        context = header_context(job, self.workspace) | {"request": request, "tab": request.GET.get("tab", "")}
        if request.GET.get("part") == "overview":
            context["events"] = list(job.events.all())
            context["inputs"] = inputs_as_yaml(job)
            html = render_to_string("jobs/_overview.html", context, request=request)
        else:
            html = render_to_string("jobs/_job_head.html", context, request=request)
        return HttpResponse(html, status=286 if job.is_final else 200)
