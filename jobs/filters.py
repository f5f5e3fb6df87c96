"""Filters and sorting of the jobs list, shared by the Jobs page and GET .../jobs/."""

from __future__ import annotations

from datetime import datetime, timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone

from jobs import columns
from jobs.models import Job, JobStatus

SORTS = {
    "created": ("-created_at", "-id"),
    "-created": ("created_at", "id"),
    "name": ("name",),
    "-name": ("-name",),
    "status": ("status", "-created_at", "-id"),
    "-status": ("-status", "-created_at", "-id"),
    "display_name": ("display_name", "-created_at", "-id"),
    "-display_name": ("-display_name", "-created_at", "-id"),
}
ARCHIVED_CHOICES = {"only": "Archived only", "all": "Archived and not"}
SORT_LABELS = {"created": "Newest first", "-created": "Oldest first", "name": "Name A–Z", "status": "Status"}


class JobFilter(django_filters.FilterSet):
    status = django_filters.CharFilter(method="filter_status", label="Status")
    experiment = django_filters.CharFilter(field_name="experiment__name", label="Experiment")
    compute = django_filters.CharFilter(field_name="compute_name", lookup_expr="iexact", label="Compute")
    created_by = django_filters.CharFilter(field_name="created_by__username", label="Submitted by")
    since = django_filters.DateFilter(method="filter_since", label="From")
    until = django_filters.DateFilter(method="filter_until", label="Until")
    q = django_filters.CharFilter(method="filter_q", label="Name contains")
    sort = django_filters.CharFilter(method="filter_sort", label="Sort")
    # Read in filter_queryset: archived jobs are hidden unless asked for ("only" or "all").
    archived = django_filters.CharFilter(method="filter_archived", label="Archived")

    class Meta:
        model = Job
        fields: list[str] = []

    def filter_queryset(self, queryset):
        if self.form.cleaned_data.get("archived") not in ARCHIVED_CHOICES:
            queryset = queryset.unarchived()
        return super().filter_queryset(queryset)

    def filter_archived(self, queryset, name, value):
        if value == "only":
            return queryset.archived()
        return queryset

    def filter_status(self, queryset, name, value):
        wanted = [s for s in (v.strip() for v in value.split(",")) if s]
        valid = {c.value.lower(): c.value for c in JobStatus}
        if "active" in wanted:
            wanted += [JobStatus.QUEUED, JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.FINALIZING]
        chosen = {valid[w.lower()] for w in wanted if w.lower() in valid}
        return queryset.filter(status__in=chosen) if chosen else queryset.none()

    def filter_since(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(display_name__icontains=value)) if value else queryset

    def filter_sort(self, queryset, name, value):
        by_column = columns.sorted_by_column(queryset, value)
        return by_column if by_column is not None else queryset.order_by(*SORTS.get(value, SORTS["created"]))


def _start_of(day) -> datetime:
    """Midnight of `day` in the server's time zone (a range the created_at index can use)."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))
