"""The Metrics and Comparison parts of an endpoint's page, as htmx partials that refresh
themselves: requests/s, latency p50/p95/p99 and errors per deployment over time (read from what
the routers flushed), and the mirrored traffic's live vs shadow answers."""

from __future__ import annotations

from django.views.generic import TemplateView

from endpoints import metrics, mirror
from endpoints.models import OnlineEndpoint
from studio.permissions import can
from studio.views.base import PartialMixin, WorkspaceMixin

WINDOWS = {"15": 15, "60": 60, "360": 360, "1440": 1440}
POINTS_SHOWN = 30


class EndpointMetricsView(WorkspaceMixin, PartialMixin, TemplateView):
    """`_metrics.html`: one block per deployment, the last `minutes` (15 min to a day); a page
    around it when visited directly."""

    template_name = "endpoints/endpoint_metrics.html"
    partial_template_name = "endpoints/_metrics.html"
    queryset = OnlineEndpoint.objects.all()
    section = "endpoints"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.get_object()
        minutes = WINDOWS.get(self.request.GET.get("minutes", ""), 60)
        blocks = []
        for deployment in endpoint.deployments.all():
            found = metrics.series(deployment, minutes)
            found["points"] = found["points"][-POINTS_SHOWN:][::-1]
            peak = max((p["requests"] for p in found["points"]), default=0)
            for point in found["points"]:
                point["bar"] = round(100 * point["requests"] / peak) if peak else 0
            blocks.append(found)
        context.update(
            endpoint=endpoint,
            blocks=blocks,
            minutes=minutes,
            windows=WINDOWS.values(),
            part=self.partial_template_name,
            title="Metrics",
            lead="Requests/s, latency and errors per deployment, as the router counted them.",
        )
        return context


class MirrorComparisonView(WorkspaceMixin, PartialMixin, TemplateView):
    """`_comparison.html`: the recorded pairs hold request and answer bodies, so, like the keys,
    they are for those who may change the endpoint (readers see that it exists, not what it says)."""

    template_name = "endpoints/endpoint_metrics.html"
    partial_template_name = "endpoints/_comparison.html"
    queryset = OnlineEndpoint.objects.all()
    section = "endpoints"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.get_object()
        allowed = can(self.request.user, self.workspace, "endpoints.write")
        context.update(
            endpoint=endpoint,
            allowed=allowed,
            comparison=mirror.comparison(endpoint) if allowed else None,
            part=self.partial_template_name,
            title="Mirrored traffic",
            lead="The shadow deployment's answers next to the live ones, before you move traffic to it.",
        )
        return context
