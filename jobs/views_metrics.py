"""The Metrics tab of a job (charts over steps, last values, params) and the experiment's
run comparison (metrics of selected runs overlaid, params side by side)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import TemplateView

from jobs import tracking
from jobs.models import Experiment, Job, Param
from studio.views.base import WorkspaceMixin

MAX_COMPARED = 10


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
        history = tracking.metric_history(self.job)
        context.update(
            job=self.job,
            history=history,
            summary=sorted(tracking.metric_summary(self.job).items()),
            params=list(self.job.params.all()),
            tags=list(self.job.run_tags.all()),
            charts={k: v for k, v in history.items() if len(v) > 1},
        )
        return context


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
        series = {job.name: tracking.metric_history(job) for job in jobs}
        keys = sorted({k for hist in series.values() for k in hist})
        params = {}
        for p in Param.objects.filter(job__in=jobs).values("job__name", "key", "value"):
            params.setdefault(p["key"], {})[p["job__name"]] = p["value"]
        summaries = {job.name: tracking.metric_summary(job) for job in jobs}
        context.update(
            experiment=experiment,
            jobs=jobs,
            chart_data={"runs": [j.name for j in jobs], "labels": {j.name: j.title for j in jobs}, "series": series},
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
