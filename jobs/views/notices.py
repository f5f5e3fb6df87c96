"""The feed the page's toast polls (the user's own jobs that ended) and the e-mail preference."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from jobs import notices
from jobs.services.notices import do_set_job_email


class EndedJobsFeedView(LoginRequiredMixin, View):
    """GET ?since=<ms cursor> -> {"cursor", "jobs": [...]}. Without `since` it only hands out a
    cursor, so a fresh page announces what ends from now on, not history."""

    raise_exception = True  # a poll from a signed-out page gets 403, not a login page

    def get(self, request):
        raw = request.GET.get("since", "")
        if not raw:
            return JsonResponse({"cursor": notices.next_cursor(), "jobs": []})
        try:
            since = int(raw)
        except ValueError:
            return JsonResponse(
                {"detail": "since is a cursor from this endpoint.", "errors": {"since": ["Not a number."]}}, status=400
            )
        cursor = notices.next_cursor()
        return JsonResponse({"cursor": max(cursor, since), "jobs": notices.ended_since(request.user, since)})


class NotificationSettingsView(LoginRequiredMixin, TemplateView):
    template_name = "jobs/notification_settings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pref = getattr(self.request.user, "job_notifications", None)
        context["email_on"] = bool(pref and pref.email_on_job_end)
        return context

    def post(self, request):
        on = request.POST.get("email_on_job_end") == "on"
        if on and not request.user.email:
            messages.error(request, "Your account has no e-mail address; ask an administrator to add one.")
            return redirect("jobs:notification_settings")
        do_set_job_email(request.user, on)
        messages.success(request, "You will get an e-mail when your jobs end." if on else "Job e-mails are off.")
        return redirect("jobs:notification_settings")
