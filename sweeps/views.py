"""The sweep page: status and progress, the best trial, the trials table (sorted on the server by
any hyperparameter or the metric) and the primary metric over trials (an SVG drawn here); the
body polls while the sweep runs. The parallel-coordinates chart and the overlaid metric curves are
drawn by static/sweeps/sweep.js from `SweepDataView`, which sends only what is new since a cursor."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.generic import TemplateView, View

from jobs import artifacts
from jobs import services as job_services
from jobs.models import UNFINISHED_STATUSES, Job, JobStatus, JobType, Metric
from jobs.views.submit import JobCreateView
from studio.views.base import PartialMixin, WorkspaceMixin
from sweeps.forms import ParameterFormSet, SweepForm, apply_sweep_errors
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


def sort_trials(trials: list, params: list[str], key: str) -> tuple[list, str]:
    """Trials ordered by `key`: "number", "value", "state" or a hyperparameter, "-" first for
    descending; trials without a value sort last either way. An unknown key sorts by number."""
    descending = key.startswith("-")
    name = key.lstrip("-")
    if name not in ("number", "value", "state", *params):
        return trials, "number"

    def field(trial):
        if name in ("number", "value", "state"):
            return getattr(trial, name)
        return trial.params.get(name)

    present = [t for t in trials if field(t) is not None]
    missing = [t for t in trials if field(t) is None]
    # Mixed choice values (numbers and strings) sort by kind first, then value.
    present.sort(key=lambda t: (isinstance(field(t), str), field(t)), reverse=descending)
    return present + missing, key


def register_url(workspace, sweep_job: Job, best) -> str:
    """The registry's register form for the best trial's model: its `outputs/model` folder when it
    wrote one (as a job page's "Register model"), else the form lists the trial's output folders."""
    if best is None or best.job.status != JobStatus.COMPLETED:
        return ""
    query = {"job": best.job.name, "name": sweep_job.name}
    if (artifacts.outputs_root(best.job) / "model").is_dir():
        query["path"] = "outputs/model"
    return f"{reverse('registry:model_create', args=[workspace.name])}?{urlencode(query)}"


class SweepJobMixin(WorkspaceMixin):
    section = "jobs"
    queryset = Job.objects.filter(type=JobType.SWEEP).select_related("sweep", "experiment", "created_by")


class SweepDetailView(SweepJobMixin, PartialMixin, TemplateView):
    template_name = "sweeps/sweep_detail.html"
    partial_template_name = "sweeps/_sweep_body.html"

    def get(self, request, *args, **kwargs):
        self.job = self.get_object()
        response = super().get(request, *args, **kwargs)
        if self.serves_partial() and self.job.status not in UNFINISHED_STATUSES:
            response.render()
            return HttpResponse(response.content, status=286)  # htmx: stop polling, the sweep is over
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sweep = self.job.sweep
        spec = SweepSpec.from_dict(sweep.spec)
        trials, sort = sort_trials(
            list(sweep.trials.select_related("job")), list(spec.search_space), self.request.GET.get("sort", "number")
        )
        counts = {state: 0 for state in TrialState.values}
        running = ready = 0
        for trial in trials:
            trial.shown = [_short(trial.params.get(name)) for name in spec.search_space]
            counts[trial.state] += 1
            trial.ready = trial.job.status == JobStatus.NOT_STARTED  # made ready ahead, not started
            running += trial.job.status in UNFINISHED_STATUSES and not trial.ready
            ready += trial.ready
        context |= {
            "job": self.job,
            "sweep": sweep,
            "spec": spec,
            "trials": trials,
            "counts": counts,
            "running": running,
            "started": len(trials) - ready,
            "params": list(spec.search_space),
            "best": sweep.best_trial,
            "points": metric_points(trials),
            "chart": {"w": CHART_W, "h": CHART_H},
            "unfinished": self.job.status in UNFINISHED_STATUSES,
            "sort": sort,
            "register_url": register_url(self.workspace, self.job, sweep.best_trial),
            "columns": [("number", "#"), ("state", "State"), *[(p, p) for p in spec.search_space]],
        }
        return context


class SweepDataView(SweepJobMixin, View):
    """The charts' data: every trial (values, state, metric) and the primary metric's points
    logged since `?after=` (a metric row id; 0 for all), with the cursor to ask from next."""

    MAX_POINTS = 20000

    def get(self, request, workspace, name):
        job = self.get_object()
        sweep = job.sweep
        spec = SweepSpec.from_dict(sweep.spec)
        try:
            after = max(0, int(request.GET.get("after", "0")))
        except ValueError:
            return JsonResponse(
                {"errors": {"after": ["after is a whole number (the cursor given last time)."]}}, status=400
            )
        trials = list(sweep.trials.select_related("job"))
        by_job = {t.job_id: t.number for t in trials}
        rows = list(
            Metric.objects.filter(job_id__in=by_job, key=spec.primary_metric, pk__gt=after, value__isnull=False)
            .order_by("pk")
            .values_list("pk", "job_id", "step", "value")[: self.MAX_POINTS]
        )
        points: dict[int, list] = {}
        for _, job_id, step, value in rows:
            points.setdefault(by_job[job_id], []).append([step, value])
        return JsonResponse(
            {
                "metric": spec.primary_metric,
                "goal": spec.goal,
                "params": list(spec.search_space),
                "trials": [
                    {
                        "number": t.number,
                        "name": t.job.name,
                        "url": reverse("jobs:job_detail", args=[self.workspace.name, t.job.name]),
                        "state": t.state,
                        "params": t.params,
                        "value": t.value,
                        "best": t.pk == sweep.best_trial_id,
                    }
                    for t in trials
                ],
                "points": points,
                "cursor": rows[-1][0] if rows else after,
                "final": job.status not in UNFINISHED_STATUSES and len(rows) < self.MAX_POINTS,
            }
        )


class SweepCreateView(JobCreateView):
    """The "Create sweep" form: the job form's code, environment and compute, plus search space
    rows and the sweep's settings; submitted through the same `do_submit_job` as the YAML."""

    template_name = "sweeps/sweep_form.html"
    form_class = SweepForm

    def get_initial(self):
        return super().get_initial() | {"goal": "maximize", "sampling": "random", "max_total_trials": 20}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("rows", ParameterFormSet(prefix="space"))
        return context

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        rows = ParameterFormSet(request.POST, prefix="space")
        form_ok, rows_ok = form.is_valid(), rows.is_valid()
        used = [r for r in rows if rows_ok and r.cleaned_data.get("name", "").strip()]
        if rows_ok:
            for row in rows:
                if not row.cleaned_data.get("name", "").strip() and row.has_changed() and row.changed_data != ["type"]:
                    row.add_error("name", "Name this parameter (or clear the row).")
                    rows_ok = False
        if rows_ok and not used:
            form.add_error(None, "Add at least one search space row (a name and a distribution).")
            rows_ok = False
        if not (form_ok and rows_ok):
            return self.invalid(form, rows)
        snapshot = None
        try:
            snapshot = self.upload_code(form.cleaned_data["code_source"])
            data = form.to_sweep_spec(used)
            job = job_services.do_submit_job(
                self.workspace, actor=request.user, data=data, code=snapshot, source="form"
            )
        except ValidationError as exc:
            for message in apply_sweep_errors(form, used, exc):
                form.add_error(None, message)
            return self.invalid(form, rows, snapshot)
        return redirect("sweeps:sweep_detail", self.workspace.name, job.name)

    def invalid(self, form, rows, snapshot=None):
        self._rows = rows
        return self.form_invalid(form, snapshot, status=400)

    def render_to_response(self, context, **kwargs):
        if hasattr(self, "_rows"):
            context["rows"] = self._rows
        return super().render_to_response(context, **kwargs)
