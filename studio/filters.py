import django_filters

from studio.models import ActivityEvent


class ActivityFilter(django_filters.FilterSet):
    """Shared by the Activity page and GET /api/v1/workspaces/{ws}/activity/."""

    category = django_filters.CharFilter(method="filter_category", label="Kind")
    actor = django_filters.CharFilter(field_name="actor__username", label="Who")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    q = django_filters.CharFilter(field_name="target", lookup_expr="icontains", label="Target")

    class Meta:
        model = ActivityEvent
        fields = ["verb"]

    def filter_category(self, queryset, name, value):
        return queryset.filter(verb__startswith=value.rstrip(".") + ".") if value else queryset
