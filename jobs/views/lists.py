"""The Jobs list (filters, sort, server-side pagination) and the Experiments pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.urls import reverse
from django.views.generic import ListView

from jobs import children, columns
from jobs.filters import ARCHIVED_CHOICES, SORT_LABELS, JobFilter
from jobs.metrics.values import last_metric_values
from jobs.models import UNFINISHED_STATUSES, Experiment, Job, JobStatus, JobType
from jobs.services.archive import ARCHIVE_ACTION
from studio.permissions import can
from studio.views.base import PartialMixin, WorkspaceMixin

FILTER_KEYS = ("status", "experiment", "compute", "created_by", "since", "until", "q", "sort", "archived")


class JobListView(WorkspaceMixin, PartialMixin, ListView):
    template_name = "jobs/job_list.html"
    partial_template_name = "jobs/_job_rows.html"
    context_object_name = "jobs"
    paginate_by = 50
    section = "jobs"

    def get_queryset(self):
        base = Job.objects.filter(workspace=self.workspace).select_related("experiment", "created_by")
        self.filterset = JobFilter(self.request.GET, queryset=base)
        qs = self.filterset.qs if self.filterset.is_valid() else base
        qs = qs.top_level()  # children are folded under their parent
        if "sort" not in self.request.GET:
            qs = qs.order_by("-created_at", "-id")
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["jobs"] = fold_children(context["jobs"])
        context["create_links"] = [
            (label, reverse(url_name, args=[self.workspace.name])) for label, url_name in children.create_links()
        ]
        context["filters"] = {k: self.request.GET.get(k, "") for k in FILTER_KEYS}
        context["statuses"] = list(JobStatus)
        context["experiments"] = list(
            Experiment.objects.filter(workspace=self.workspace).values_list("name", flat=True)
        )
        context["computes"] = _compute_names(self.workspace)
        context["creators"] = list(
            get_user_model()
            .objects.filter(memberships__workspace=self.workspace)
            .order_by("username")
            .values_list("username", flat=True)
        )
        context["sorts"] = SORT_LABELS
        context["archived_choices"] = ARCHIVED_CHOICES
        user = self.request.user
        may_bulk = can(user, self.workspace, "jobs.cancel") or can(user, self.workspace, ARCHIVE_ACTION)
        context["bulk_form"] = "bulk-form" if may_bulk else ""
        context["show_tags"] = True
        scope = f"{user.pk}:{self.workspace.name}:jobs"
        context.update(_run_columns(self, context["jobs"], scope, metrics_shown=3, params_shown=0))
        context["has_unfinished"] = any(job.status in UNFINISHED_STATUSES for job in context["jobs"])
        context["filtered"] = any(context["filters"][k] for k in FILTER_KEYS if k != "sort")
        return context


FOLDED_CHILDREN = 50


def fold_children(parents) -> list[Job]:
    """The page's jobs with each parent's children (a sweep's trials) right after it, marked
    `is_child`, newest first; a parent with more shows the first FOLDED_CHILDREN."""
    parents = list(parents)
    ids = [job.pk for job in parents if job.type != JobType.COMMAND]
    by_parent: dict[int, list[Job]] = {}
    if ids:
        children = Job.objects.filter(parent_id__in=ids).select_related("experiment", "created_by")
        for child in children.order_by("-created_at", "-id"):
            siblings = by_parent.setdefault(child.parent_id, [])
            if len(siblings) < FOLDED_CHILDREN:
                child.is_child = True
                siblings.append(child)
    rows = []
    for job in parents:
        rows.append(job)
        rows.extend(by_parent.get(job.pk, ()))
    return rows


def _compute_names(workspace) -> list[str]:
    from compute.models import ComputeTarget

    return list(ComputeTarget.objects.filter(workspace=workspace).order_by("name").values_list("name", flat=True))


class ExperimentListView(WorkspaceMixin, ListView):
    template_name = "jobs/experiment_list.html"
    context_object_name = "experiments"
    paginate_by = 50
    section = "experiments"

    def get_queryset(self):
        qs = (
            Experiment.objects.filter(workspace=self.workspace)
            .annotate(job_count=Count("jobs"), last_job_at=Max("jobs__created_at"))
            .order_by("-last_job_at", "name")
        )
        if q := self.request.GET.get("q", "").strip():
            qs = qs.filter(name__icontains=q)
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["q"] = self.request.GET.get("q", "")
        return context


class ExperimentDetailView(WorkspaceMixin, PartialMixin, ListView):
    """An experiment's runs (newest first). The lead's metric columns and compare view extend it."""

    template_name = "jobs/experiment_detail.html"
    partial_template_name = "jobs/_job_rows.html"
    context_object_name = "jobs"
    paginate_by = 50
    section = "experiments"

    def get_queryset(self):
        self.experiment = self.get_object(Experiment)
        base = Job.objects.filter(experiment=self.experiment).select_related("experiment", "created_by")
        self.filterset = JobFilter(self.request.GET, queryset=base)
        qs = self.filterset.qs if self.filterset.is_valid() else base
        return qs.top_level()  # children are folded under their parent

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["experiment"] = self.experiment
        context["jobs"] = fold_children(context["jobs"])
        context["filters"] = {k: self.request.GET.get(k, "") for k in FILTER_KEYS}
        context["statuses"] = list(JobStatus)
        context["has_unfinished"] = any(job.status in UNFINISHED_STATUSES for job in context["jobs"])
        context["hide_experiment"] = True
        context["compare_form"] = "compare-form"
        scope = f"{self.request.user.pk}:{self.workspace.name}:experiment:{self.experiment.name}"
        context.update(_run_columns(self, context["jobs"], scope, metrics_shown=6, params_shown=4))
        return context


def _run_columns(view, page_jobs, scope: str, *, metrics_shown: int, params_shown: int) -> dict:
    """Param and metric columns over the jobs the filters match (so the chooser stays put while
    paging), with this page's values in one query per kind. `column_scope` keys the chooser's
    memory in the browser: per user and per table."""
    matched = view.filterset.qs if view.filterset.is_valid() else view.filterset.queryset
    sort = view.request.GET.get("sort", "")
    return {
        "columns": columns.columns(matched, sort, metrics_shown=metrics_shown, params_shown=params_shown),
        "column_scope": scope,
        "metric_values": last_metric_values(page_jobs),
        "param_values": columns.param_values(page_jobs),
    }
