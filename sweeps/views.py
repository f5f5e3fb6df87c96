"""The sweep page: status and progress, the best trial, the trials table and the primary metric
over trials (an SVG drawn here, so no script runs); the body polls while the sweep runs."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from jobs.models import UNFINISHED_STATUSES, Job, JobType
from studio.views.base import PartialMixin, WorkspaceMixin
from sweeps.models import TrialState
from sweeps.spec import SweepSpec

CHART_W, CHART_H, PAD = 600, 200, 24


def metric_points(trials) -> list[dict]:
    """Each trial with a value, placed on the chart (x: trial number, y: value)."""
    valued = [t for t in trials if t.value is not None]
    if not valued:
        return []
    numbers = [t.number for t in valued]
    values = [t.value for t in valued]
    lo_n, hi_n = min(numbers), max(numbers) or 1
    lo_v, hi_v = min(values), max(values)
    span_n, span_v = (hi_n - lo_n) or 1, (hi_v - lo_v) or 1
    return [
        {
            "x": round(PAD + (t.number - lo_n) / span_n * (CHART_W - 2 * PAD), 1),
            "y": round(CHART_H - PAD - (t.value - lo_v) / span_v * (CHART_H - 2 * PAD), 1),
            "trial": t,
        }
        for t in valued
    ]


def _short(value) -> str:
    """A parameter value for the table: floats to 4 significant digits (the full value is on the
    trial's job page and in the best-trial line)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


class SweepDetailView(WorkspaceMixin, PartialMixin, TemplateView):
    template_name = "sweeps/sweep_detail.html"
    partial_template_name = "sweeps/_sweep_body.html"
    section = "jobs"

    def get(self, request, *args, **kwargs):
        self.job = get_object_or_404(
            Job.objects.select_related("sweep", "experiment", "created_by"),
            workspace=self.workspace,
            name=kwargs["name"],
            type=JobType.SWEEP,
        )
        response = super().get(request, *args, **kwargs)
        if self.serves_partial() and self.job.status not in UNFINISHED_STATUSES:
            response.render()
            return HttpResponse(response.content, status=286)  # htmx: stop polling, the sweep is over
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sweep = self.job.sweep
        spec = SweepSpec.from_dict(sweep.spec)
        trials = list(sweep.trials.select_related("job"))
        counts = {state: 0 for state in TrialState.values}
        running = 0
        for trial in trials:
            trial.shown = [_short(trial.params.get(name)) for name in spec.search_space]
            counts[trial.state] += 1
            running += trial.job.status in UNFINISHED_STATUSES
        context |= {
            "job": self.job,
            "sweep": sweep,
            "spec": spec,
            "trials": trials,
            "counts": counts,
            "running": running,
            "params": list(spec.search_space),
            "best": sweep.best_trial,
            "points": metric_points(trials),
            "chart": {"w": CHART_W, "h": CHART_H},
            "unfinished": self.job.status in UNFINISHED_STATUSES,
        }
        return context
