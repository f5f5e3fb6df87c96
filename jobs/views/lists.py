"""The Jobs list (filters, sort, server-side pagination) and the Experiments pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404
from django.views.generic import ListView

from jobs.filters import SORT_LABELS, JobFilter
from jobs.metric_values import last_metric_values
from jobs.models import UNFINISHED_STATUSES, Experiment, Job, JobStatus, JobType
from studio.views.base import PartialMixin, WorkspaceMixin

FILTER_KEYS = ("status", "experiment", "compute", "created_by", "since", "until", "q", "sort")


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
        qs = qs.filter(parent__isnull=True)  # children are folded under their parent
        if "sort" not in self.request.GET:
            qs = qs.order_by("-created_at", "-id")
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["jobs"] = fold_children(context["jobs"])
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
        self.experiment = get_object_or_404(Experiment, workspace=self.workspace, name=self.kwargs["name"])
        base = Job.objects.filter(experiment=self.experiment).select_related("experiment", "created_by")
        self.filterset = JobFilter(self.request.GET, queryset=base)
        return self.filterset.qs if self.filterset.is_valid() else base

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["experiment"] = self.experiment
        context["jobs"] = fold_children(context["jobs"])
        context["filters"] = {k: self.request.GET.get(k, "") for k in FILTER_KEYS}
        context["statuses"] = list(JobStatus)
        context["has_unfinished"] = any(job.status in UNFINISHED_STATUSES for job in context["jobs"])
        context["hide_experiment"] = True
        context["compare_form"] = "compare-form"
        context["metric_keys"], context["metric_values"] = _last_metrics(context["jobs"])
        return context


MAX_METRIC_COLUMNS = 6


def _last_metrics(jobs) -> tuple[list[str], dict[int, dict[str, float | None]]]:
    """The metric keys the runs on this page logged (at most a few columns) and each run's last
    value of each, in one query."""
    values = last_metric_values(jobs)
    keys = sorted({key for per_job in values.values() for key in per_job})[:MAX_METRIC_COLUMNS]
    return keys, values
