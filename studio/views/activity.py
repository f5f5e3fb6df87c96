from __future__ import annotations

from django.contrib.auth import get_user_model
from django.views.generic import ListView

from studio.filters import ActivityFilter
from studio.models import ActivityEvent
from studio.views.base import PartialMixin, WorkspaceMixin

User = get_user_model()


class ActivityListView(WorkspaceMixin, PartialMixin, ListView):
    """Who did what and when, filtered by kind, person and text; same filters as the API."""

    template_name = "studio/activity_list.html"
    partial_template_name = "studio/_activity_rows.html"
    context_object_name = "events"
    paginate_by = 50
    section = "activity"

    def get_queryset(self):
        base = ActivityEvent.objects.filter(workspace=self.workspace).select_related("actor")
        self.filterset = ActivityFilter(self.request.GET or None, queryset=base)
        return self.filterset.qs if self.filterset.is_bound and self.filterset.is_valid() else base

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        verbs = ActivityEvent.objects.filter(workspace=self.workspace).values_list("verb", flat=True).distinct()
        context["categories"] = sorted({v.split(".", 1)[0] for v in verbs})
        context["actors"] = (
            User.objects.filter(memberships__workspace=self.workspace)
            .order_by("username")
            .values_list("username", flat=True)
        )
        context["filters"] = self.request.GET
        return context
