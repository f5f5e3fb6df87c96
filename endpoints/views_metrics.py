"""The Metrics and Comparison tabs of an endpoint's page, as htmx parts that refresh themselves:
requests/s, latency p50/p95/p99 and errors per deployment over time (read from what the routers
flushed), and the mirrored traffic's live vs shadow answers. The endpoint page (views.TABS) draws
them with `metrics_context` / `comparison_context`; the views below serve the same parts alone."""

from __future__ import annotations

from django.views.generic import TemplateView

from endpoints import metrics, mirror
from endpoints.models import OnlineEndpoint
from studio.permissions import can
from studio.views.base import PartialMixin, WorkspaceMixin

WINDOWS = {"15": 15, "60": 60, "360": 360, "1440": 1440}
POINTS_SHOWN = 30


def metrics_context(request, endpoint: OnlineEndpoint) -> dict:
    """One block per deployment over the last `?minutes=` (15 min to a day, 60 by default)."""
    minutes = WINDOWS.get(request.GET.get("minutes", ""), 60)
    blocks = []
    for deployment in endpoint.deployments.all():
        found = metrics.series(deployment, minutes)
        found["points"] = found["points"][-POINTS_SHOWN:][::-1]
        peak = max((p["requests"] for p in found["points"]), default=0)
        for point in found["points"]:
            point["bar"] = round(100 * point["requests"] / peak) if peak else 0
        blocks.append(found)
    return {"blocks": blocks, "minutes": minutes, "windows": WINDOWS.values()}


def comparison_context(request, endpoint: OnlineEndpoint) -> dict:
    """The recorded pairs hold request and answer bodies, so, like the keys, they are for those
    who may change the endpoint (readers see that it exists, not what it says)."""
    allowed = can(request.user, endpoint.workspace, "endpoints.write")
    return {"allowed": allowed, "comparison": mirror.comparison(endpoint) if allowed else None}


class _PartView(WorkspaceMixin, PartialMixin, TemplateView):
    template_name = "endpoints/endpoint_metrics.html"
    queryset = OnlineEndpoint.objects.all()
    section = "endpoints"
    title = lead = ""

    def part_context(self, endpoint: OnlineEndpoint) -> dict:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.get_object()
        context.update(endpoint=endpoint, part=self.partial_template_name, title=self.title, lead=self.lead)
        context.update(self.part_context(endpoint))
        return context


class EndpointMetricsView(_PartView):
    partial_template_name = "endpoints/_metrics.html"
    title = "Metrics"
    lead = "Requests/s, latency and errors per deployment, as the router counted them."

    def part_context(self, endpoint: OnlineEndpoint) -> dict:
        return metrics_context(self.request, endpoint)


class MirrorComparisonView(_PartView):
    partial_template_name = "endpoints/_comparison.html"
    title = "Mirrored traffic"
    lead = "The shadow deployment's answers next to the live ones, before you move traffic to it."

    def part_context(self, endpoint: OnlineEndpoint) -> dict:
        return comparison_context(self.request, endpoint)
