"""Cancel and delete, from the job page (plain forms; htmx not required)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views import View

from jobs import services
from jobs.views.base import JobMixin
from jobs.views.detail import TABS

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
