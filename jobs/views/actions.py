"""Cancel and delete from the job page, and bulk cancel/archive/restore from the list (plain
forms; htmx not required)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

from jobs import services
from jobs.models import Job
from jobs.services.archive import ARCHIVE_ACTION
from jobs.views.base import JobMixin
from jobs.views.detail import TABS
from studio.permissions import ACTIONS, VIEW
from studio.views.base import WorkspaceMixin

TAB_URLS = {key: url_name for key, _label, url_name in TABS}


class JobCancelView(JobMixin, View):
    post_action = "jobs.cancel"

    def post(self, request, workspace, name):
        job = self.get_object()
        try:
            job = services.do_cancel_job(job, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"{job.name}: " + ("canceled." if job.is_final else "cancel requested; stopping it now.")
            )
        tab = request.POST.get("tab", "")
        if tab in TAB_URLS:
            return redirect(TAB_URLS[tab], self.workspace.name, job.name)
        return redirect(job.get_absolute_url())


class JobDeleteView(JobMixin, View):
    post_action = "jobs.delete"

    def post(self, request, workspace, name):
        job = self.get_object()
        try:
            services.do_delete_job(job, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(job.get_absolute_url())
        messages.success(request, f"Job {name} was deleted.")
        return redirect("jobs:job_list", self.workspace.name)


BULK_ACTIONS = {
    # key: (the do_* function, the action it needs, what the button says, past tense)
    "cancel": (services.do_cancel_job, "jobs.cancel", "Cancel", "cancel requested"),
    "archive": (services.do_archive_job, ARCHIVE_ACTION, "Archive", "archived"),
    "restore": (services.do_restore_job, ARCHIVE_ACTION, "Restore", "restored"),
}
MAX_BULK = 200


class JobBulkView(WorkspaceMixin, View):
    """Cancel, archive or restore the jobs ticked in the list: each job through its own `do_*`
    function and fetched through `for_user(action)`, so a job the user may not change is refused
    with the reason while the others go ahead."""

    post_action = VIEW  # the action per job is checked below, by what was asked
    section = "jobs"

    def post(self, request, workspace):
        back = request.POST.get("next", "")
        if not back.startswith(f"/w/{self.workspace.name}/jobs/"):
            back = reverse("jobs:job_list", args=[self.workspace.name])
        chosen = BULK_ACTIONS.get(request.POST.get("action", ""))
        names = list(dict.fromkeys(request.POST.getlist("job")))[:MAX_BULK]
        if chosen is None or not names:
            messages.error(request, "Tick at least one job, then pick Cancel, Archive or Restore.")
            return redirect(back)
        function, action, label, done_text = chosen
        allowed = Job.objects.for_user(request.user, action).filter(workspace=self.workspace, name__in=names)
        allowed = {job.name: job for job in allowed.select_related("workspace", "experiment")}
        result = services.do_bulk([allowed[n] for n in names if n in allowed], function, actor=request.user)
        for name in names:
            if name not in allowed:
                result.refused[name] = (
                    f"your role may not {label.lower()} jobs here ({ACTIONS[action].lower()} is needed)."
                    if Job.objects.filter(workspace=self.workspace, name=name).exists()
                    else "no such job in this workspace."
                )
        if result.done:
            messages.success(request, f"{len(result.done)} job(s) {done_text}: {', '.join(result.done)}.")
        for name, why in result.refused.items():
            messages.error(request, f"{name}: {why}")
        return redirect(back)
