"""Pages of batch endpoints: the list, an endpoint's page (deployments and jobs, with progress)
and a batch scoring job's page (mini-batch progress; the body polls while the job runs)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from endpoints.batch import scoring
from endpoints.batch.models import BatchEndpoint, BatchRun
from jobs.artifacts import list_outputs
from jobs.models import UNFINISHED_STATUSES, Job, JobType
from studio.views.base import PartialMixin, WorkspaceMixin


class BatchEndpointListView(WorkspaceMixin, TemplateView):
    template_name = "endpoints/batch_endpoint_list.html"
    section = "batch_endpoints"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoints = list(
            BatchEndpoint.objects.filter(workspace=self.workspace).prefetch_related("deployments").order_by("name")
        )
        for endpoint in endpoints:
            endpoint.last_run = (
                BatchRun.objects.filter(endpoint=endpoint).select_related("job").order_by("-job__created_at").first()
            )
        return context | {"endpoints": endpoints}


class BatchEndpointDetailView(WorkspaceMixin, TemplateView):
    template_name = "endpoints/batch_endpoint_detail.html"
    section = "batch_endpoints"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = get_object_or_404(BatchEndpoint, workspace=self.workspace, name=self.kwargs["name"])
        runs = list(BatchRun.objects.filter(endpoint=endpoint).select_related("job").order_by("-job__created_at")[:50])
        for run in runs:
            run.progress = scoring.progress(run)
        return context | {
            "endpoint": endpoint,
            "deployments": list(endpoint.deployments.all()),
            "runs": runs,
        }


class BatchJobView(WorkspaceMixin, PartialMixin, TemplateView):
    template_name = "endpoints/batch_job.html"
    partial_template_name = "endpoints/_batch_job_body.html"
    section = "jobs"

    def get(self, request, *args, **kwargs):
        self.job = get_object_or_404(
            Job.objects.select_related("batch_run", "experiment", "created_by"),
            workspace=self.workspace,
            name=kwargs["name"],
            type=JobType.BATCH_SCORING,
        )
        response = super().get(request, *args, **kwargs)
        if self.serves_partial() and self.job.status not in UNFINISHED_STATUSES:
            response.render()
            return HttpResponse(response.content, status=286)  # htmx: stop polling, the job is over
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.job.batch_run
        progress = scoring.progress(run)
        return context | {
            "job": self.job,
            "run": run,
            "progress": progress,
            "summary": scoring.completion_summary(self.job),
            "percent": round(100 * progress["done"] / progress["total"]) if progress["total"] else 0,
            "mini_batches": list(run.mini_batches.select_related("job")),
            "outputs": [o for o in list_outputs(self.job, limit=50) if o["path"].startswith("outputs/score/")],
            "unfinished": self.job.status in UNFINISHED_STATUSES,
        }
