"""The Metrics tab of a job (charts over steps, last values, params) and the experiment's
run comparison (metrics of selected runs overlaid, params side by side)."""

from __future__ import annotations

import csv
import itertools

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from jobs import tracking
from jobs.metrics import series as metric_series
from jobs.models import Experiment, Job, Param
from studio.views.base import WorkspaceMixin

MAX_COMPARED = 10
STEP_LIMIT = 2**62  # steps are 64-bit in the database: a zoom range is clamped to that
COMPARE_POINTS = 1000  # per run and metric: ten runs overlaid stay a few thousand points


class JobMetricsPartialView(WorkspaceMixin, TemplateView):
    """Polled by the job page while the job runs; answers 286 (htmx: stop polling) once final."""

    template_name = "jobs/_metrics_body.html"
    section = "jobs"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if self.job.is_final and request.htmx:
            response.status_code = 286
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        self.job = self.get_object(Job)
        context.update(
            job=self.job,
            summary=sorted(tracking.metric_summary(self.job).items()),
            params=list(self.job.params.all()),
            tags=list(self.job.run_tags.all()),
        )
        return context


class JobMetricSeriesView(WorkspaceMixin, View):
    """The charts' data (JSON): the downsampled series, or with `?after=<cursor>` only the points
    logged since. `final` tells the page to stop asking."""

    def get(self, request, *args, **kwargs):
        job = self.get_object(Job)
        after = request.GET.get("after", "")
        if after and not (after.isdigit() and len(after) <= 18):  # a row id, never past a 64-bit key
            return JsonResponse(
                {"detail": "after: a cursor from an earlier answer.", "errors": {"after": ["Must be a whole number."]}},
                status=400,
            )
        final = job.is_final  # read before the points, so a final answer holds every point
        key, low, high = request.GET.get("key", ""), request.GET.get("from", ""), request.GET.get("to", "")
        if key and low and high:  # a zoomed chart asks for its step range in detail
            try:
                steps = (max(int(float(low)), -STEP_LIMIT), min(int(float(high)), STEP_LIMIT))
            except (ValueError, OverflowError):
                return JsonResponse(
                    {"detail": "from/to: steps.", "errors": {"from": ["from and to must be numbers."]}}, status=400
                )
            return JsonResponse(metric_series.chart_series(job, key=key, steps=steps) | {"final": final})
        payload = metric_series.new_points(job, int(after)) if after else metric_series.chart_series(job)
        return JsonResponse(payload | {"final": final})


class JobMetricsCsvView(WorkspaceMixin, View):
    """Every logged value of every metric, exact (the charts may show fewer points)."""

    def get(self, request, *args, **kwargs):
        job = self.get_object(Job)

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())
        rows = job.metrics.order_by("key", "step", "timestamp", "pk").values_list("key", "step", "value", "timestamp")
        lines = (writer.writerow(row) for row in rows.iterator(2000))
        header = writer.writerow(["key", "step", "value", "timestamp"])
        response = StreamingHttpResponse(itertools.chain([header], lines), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{job.name}-metrics.csv"'
        return response


class ExperimentCompareView(WorkspaceMixin, TemplateView):
    template_name = "jobs/experiment_compare.html"
    section = "experiments"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        experiment = self.get_object(Experiment, name=self.kwargs["experiment"])
        names = [n for n in self.request.GET.getlist("run") if n][:MAX_COMPARED]
        jobs = list(Job.objects.filter(experiment=experiment, name__in=names).order_by("created_at"))
        if names and not jobs:
            raise Http404("None of those runs is in this experiment.")
        if not names:
            jobs = list(Job.objects.filter(experiment=experiment).order_by("-created_at")[:5])[::-1]
        series = {
            job.name: {k: v["points"] for k, v in metric_series.chart_series(job, COMPARE_POINTS)["series"].items()}
            for job in jobs
        }
        params = {}
        for p in Param.objects.filter(job__in=jobs).values("job__name", "key", "value"):
            params.setdefault(p["key"], {})[p["job__name"]] = p["value"]
        summaries = {job.name: tracking.metric_summary(job) for job in jobs}
        keys = sorted({k for summary in summaries.values() for k in summary})
        context.update(
            experiment=experiment,
            jobs=jobs,
            chart_data={
                "runs": [j.name for j in jobs],
                "labels": {j.name: j.title for j in jobs},
                "series": series,
                "keys": keys,
            },
            metric_keys=keys,
            last_values=[(k, [summaries[j.name].get(k, {}).get("last") for j in jobs]) for k in keys],
            param_rows=[
                (k, [params[k].get(j.name, "—") for j in jobs], len(set(params[k].values())) > 1)
                for k in sorted(params)
            ],
            max_compared=MAX_COMPARED,
        )
        return context


class MlflowLinkView(LoginRequiredMixin, TemplateView):
    """MLflow prints links into its own UI (`<tracking uri>/#/experiments/<id>/runs/<run>`). The part
    after '#' never reaches a server, so this page reads it in the browser, comes back with it as
    a query, and is sent on to the job (or experiment) page it names."""

    template_name = "jobs/mlflow_link.html"

    def get(self, request, *args, **kwargs):
        experiment_id, run = request.GET.get("experiment", ""), request.GET.get("run", "")
        if not experiment_id and not run:
            return super().get(request, *args, **kwargs)
        experiments = Experiment.objects.for_user(request.user)
        if experiment_id.isdigit():
            experiments = experiments.filter(pk=int(experiment_id))
        if run:
            job = Job.objects.filter(experiment__in=experiments, name=run).select_related("workspace").first()
            if job:
                return redirect(job)
        experiment = experiments.select_related("workspace").first() if experiment_id.isdigit() else None
        if experiment:
            return redirect(experiment)
        raise Http404("No run or experiment of yours matches that MLflow link.")
