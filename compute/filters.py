"""Filters shared by the Compute page and GET /api/v1/workspaces/{ws}/computes/."""

import django_filters

from compute.models import ComputeTarget, TargetState
from compute.spec import TYPE_ALIASES


class ComputeFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(method="filter_type", label="Type (cluster, instance, attached, docker, local)")
    state = django_filters.ChoiceFilter(choices=TargetState.choices)
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name")

    class Meta:
        model = ComputeTarget
        fields = ["type", "state", "q"]

    def filter_type(self, queryset, name, value):
        if not value:
            return queryset
        kinds = {TYPE_ALIASES.get(v.strip().lower(), v.strip().lower()) for v in value.split(",") if v.strip()}
        return queryset.filter(type__in=kinds)
