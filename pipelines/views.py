"""Component pages (list, version with its interface and the jobs that used it) and the pipeline
page (the live graph, drawn by static/pipelines/graph.js from graph.json; the steps table; a step
side panel with its log tail, outputs and metrics; "Rerun from this step")."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from jobs import services as job_services
from jobs.models import UNFINISHED_STATUSES, Job, JobType, LatestMetric
from pipelines import uploads
from pipelines.models import Component, ComponentVersion, PipelineStep, StepState
from pipelines.services import pipelines as pipeline_services
from studio import logs, versioning
from studio.views.base import PartialMixin, WorkspaceMixin
from studio.yamlspec import load_mapping

STATE_CLASS = {
    StepState.WAITING: "waiting",
    StepState.RUNNING: "running",
    StepState.COMPLETED: "completed",
    StepState.REUSED: "reused",
    StepState.FAILED: "failed",
    StepState.CANCELED: "canceled",
    StepState.SKIPPED: "skipped",
}


class ComponentListView(WorkspaceMixin, TemplateView):
    template_name = "pipelines/component_list.html"
    section = "components"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").strip()
        components = Component.objects.filter(workspace=self.workspace)
        if q:
            components = components.filter(name__icontains=q)
        versions: dict[int, list] = {}
        for v in ComponentVersion.objects.filter(component__in=components).select_related("component"):
            versions.setdefault(v.component_id, []).append(v)
        rows = []
        for component in components:
            live = [v for v in versions.get(component.pk, []) if not v.archived]
            if live:
                rows.append((component, versioning.newest(live), len(live)))
        context |= {"rows": rows, "q": q}
        return context


class ComponentLatestView(WorkspaceMixin, View):
    def get(self, request, workspace, name):
        rows = ComponentVersion.objects.filter(workspace=self.workspace, component__name=name).select_related(
            "component"
        )
        found = versioning.latest(rows) or versioning.latest(rows, include_archived=True)
        if found is None:
            return get_object_or_404(ComponentVersion, pk=0)
        return redirect(found.get_absolute_url())


class ComponentVersionView(WorkspaceMixin, TemplateView):
    template_name = "pipelines/component_version.html"
    section = "components"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = get_object_or_404(
            ComponentVersion.objects.select_related("component", "code", "created_by"),
            workspace=self.workspace,
            component__name=kwargs["name"],
            version=kwargs["version"],
        )
        steps = (
            PipelineStep.objects.filter(component_version=version)
            .select_related("job", "reused_from", "pipeline__job")
            .order_by("-pk")[:50]
        )
        siblings = versioning.sort_versions(list(version.component.versions.all()))
        context |= {"version": version, "spec": version.spec, "steps": steps, "versions": list(reversed(siblings))}
        return context


def _pipeline_job(workspace, name: str) -> Job:
    return get_object_or_404(
        Job.objects.select_related("pipeline", "experiment", "created_by"),
        workspace=workspace,
        name=name,
        type=JobType.PIPELINE,
    )


def graph_payload(job: Job) -> dict:
    """Nodes (steps with state and reuse) and edges (data bindings labelled with output names)."""
    steps = list(job.pipeline.steps.select_related("job", "reused_from"))
    spec = job.pipeline.spec
    edges = []
    for step in spec.get("steps", []):
        for name, binding in step["inputs"].items():
            if binding.get("kind") == "step":
                edges.append(
                    {"source": binding["step"], "target": step["name"], "label": f"{binding['output']} → {name}"}
                )
    return {
        "status": job.status,
        "final": job.status not in UNFINISHED_STATUSES,
        "nodes": [
            {
                "id": s.name,
                "state": s.state,
                "label": f"{s.name}\n{s.get_state_display()}",
                "component": (s.identity or {}).get("component", ""),
            }
            for s in steps
        ],
        "edges": edges,
    }


class PipelineDetailView(WorkspaceMixin, PartialMixin, TemplateView):
    template_name = "pipelines/pipeline_detail.html"
    partial_template_name = "pipelines/_pipeline_body.html"
    section = "jobs"

    def get(self, request, *args, **kwargs):
        self.job = _pipeline_job(self.workspace, kwargs["name"])
        response = super().get(request, *args, **kwargs)
        if self.serves_partial() and self.job.status not in UNFINISHED_STATUSES:
            response.render()
            return HttpResponse(response.content, status=286)
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pipeline = self.job.pipeline
        steps = list(pipeline.steps.select_related("job", "reused_from"))
        counts = {state: 0 for state in StepState.values}
        for s in steps:
            counts[s.state] += 1
        context |= {
            "job": self.job,
            "pipeline": pipeline,
            "spec": pipeline.spec,
            "steps": steps,
            "counts": counts,
            "unfinished": self.job.status in UNFINISHED_STATUSES,
        }
        return context


class PipelineGraphView(WorkspaceMixin, View):
    def get(self, request, workspace, name):
        return JsonResponse(graph_payload(_pipeline_job(self.workspace, name)))


class StepPanelView(WorkspaceMixin, PartialMixin, TemplateView):
    """The side panel of one step: its state, why it ran or was reused, its log tail, outputs
    and latest metrics (of the job that made its outputs); a page of its own without htmx."""

    template_name = "pipelines/step_detail.html"
    partial_template_name = "pipelines/_step_panel.html"
    section = "jobs"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = _pipeline_job(self.workspace, kwargs["name"])
        step = get_object_or_404(job.pipeline.steps.select_related("job", "reused_from"), name=kwargs["step"])
        source = step.job or step.reused_from
        log_tail = ""
        metrics = []
        if source is not None:
            text = logs.read_all(source.log_stream())
            log_tail = text[-20000:]
            metrics = list(LatestMetric.objects.filter(job=source).order_by("key")[:30])
        context |= {"job": job, "step": step, "source": source, "log_tail": log_tail, "metrics": metrics}
        return context


class RerunFromStepView(WorkspaceMixin, View):
    post_action = "jobs.submit"

    def post(self, request, workspace, name, step):
        job = _pipeline_job(self.workspace, name)
        try:
            new = pipeline_services.do_rerun_from_step(job, step, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("pipelines:pipeline_detail", self.workspace.name, job.name)
        return redirect("pipelines:pipeline_detail", self.workspace.name, new.name)


class PipelineSubmitView(WorkspaceMixin, TemplateView):
    """Submit a pipeline from the browser: its YAML (typed or uploaded) referring to registered
    components (azureml:train@latest) or inline commands, plus an optional code zip that is the
    code of every inline command step without a code id of its own."""

    template_name = "pipelines/pipeline_submit.html"
    section = "jobs"
    post_action = "jobs.submit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("spec_text", "")
        context["components"] = ComponentVersion.objects.filter(
            workspace=self.workspace, archived=False
        ).select_related("component")[:50]
        return context

    def post(self, request, *args, **kwargs):
        text = request.POST.get("spec", "")
        upload = request.FILES.get("spec_file")
        if upload is not None:
            text = upload.read(1024 * 1024 + 1).decode("utf-8", errors="replace")
        errors: list[str] = []
        if not text.strip():
            errors.append("Paste the pipeline YAML or choose its file.")
        else:
            try:
                data = load_mapping(text, source="pipeline YAML")
                if str(data.get("type", "")) != "pipeline":
                    raise ValidationError({"type": ["This page submits pipelines: the YAML needs type: pipeline."]})
                code = request.FILES.get("code")
                snapshot = None
                if code is not None:
                    snapshot = job_services.do_create_code_snapshot(self.workspace, actor=request.user, zip_file=code)
                uploads.apply_folder(self.workspace, actor=request.user, data=data, snapshot=snapshot)
                job = job_services.do_submit_job(self.workspace, actor=request.user, data=data, source="form")
                return redirect("pipelines:pipeline_detail", self.workspace.name, job.name)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    errors += [f"{field}: {m}" for field, msgs in exc.message_dict.items() for m in msgs]
                else:
                    errors += exc.messages
            except Exception as exc:  # Conflict (a taken name) and friends: said, not a 500
                detail = getattr(exc, "detail", None)
                if detail is None:
                    raise
                errors.append(str(detail))
        context = self.get_context_data(spec_text=text, errors=errors)
        return self.render_to_response(context, status=400)
