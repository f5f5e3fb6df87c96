"""Who is calling the MLflow API, and what they may touch.

- A job's script sends its job-scoped token: it reads and writes its own run (and the logged
  models it made), reads its workspace's experiments and models, nothing else.
- A person sends a personal token or a session cookie (then with CSRF on writes): reads what
  `workspace.view` shows; writes only runs they submitted, while they still hold `jobs.submit`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import exceptions as drf_exceptions

from jobs import tracking as job_tracking
from jobs.models import Job, RunTag
from studio.authentication import BearerTokenAuthentication
from studio.models import Workspace
from studio.permissions import can
from tracking.errors import MlflowError

PARENT_TAG = "mlflow.parentRunId"


@dataclass
class Caller:
    job: Job | None = None
    user: object = None
    workspace: Workspace | None = None  # fixed by a /mlflow/w/<ws>/ tracking URI

    @property
    def actor(self):
        """The person the activity log names: a job acts for its submitter."""
        return self.job.created_by if self.job is not None else self.user

    def workspaces(self, action: str = "workspace.view"):
        if self.job is not None:
            return Workspace.objects.filter(pk=self.job.workspace_id)
        qs = Workspace.objects.for_user(self.user, action)
        if self.workspace is not None:
            qs = qs.filter(pk=self.workspace.pk)
        return qs

    def can_read(self, workspace) -> bool:
        if self.job is not None:
            return workspace.pk == self.job.workspace_id
        return can(self.user, workspace, "workspace.view")

    def is_own_child(self, job: Job) -> bool:
        """A nested run the job's script started (`mlflow.start_run(nested=True)`, autolog's
        tuning runs): made through the API in the job's workspace with the job as its parent."""
        return (
            self.job is not None
            and job.source == "mlflow"
            and job.workspace_id == self.job.workspace_id
            and RunTag.objects.filter(job=job, key=PARENT_TAG, value=self.job.name).exists()
        )

    def can_write_run(self, job: Job) -> bool:
        if self.job is not None:
            return self.job.pk == job.pk or self.is_own_child(job)
        return job.created_by_id == getattr(self.user, "pk", None) and can(self.user, job.workspace, "jobs.submit")

    def can_read_run(self, job: Job) -> bool:
        if self.job is not None:
            return self.job.pk == job.pk or self.is_own_child(job)
        return can(self.user, job.workspace, "workspace.view")

    def write_workspace(self) -> Workspace:
        """Where a new experiment or run goes when the request names none."""
        if self.job is not None:
            raise MlflowError(
                f"This job is the MLflow run {self.job.name}; it cannot create experiments or other runs.",
                "PERMISSION_DENIED",
            )
        choices = list(self.workspaces("jobs.submit")[:2])
        if not choices:
            raise MlflowError("You may not submit jobs in any workspace.", "PERMISSION_DENIED")
        if len(choices) > 1:
            raise MlflowError(
                "You belong to several workspaces: set MLFLOW_TRACKING_URI to <server>/mlflow/w/<workspace>.",
            )
        return choices[0]


def _csrf_failure(request) -> str | None:
    check = CsrfViewMiddleware(lambda req: None)
    check.process_request(request)
    response = check.process_view(request, None, (), {})
    return None if response is None else "CSRF check failed: send the X-CSRFToken header (or use a token)."


def caller_for(request, workspace_name: str | None = None) -> Caller:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    caller: Caller | None = None
    raw = header.split(None, 1)[1].strip() if header.lower().startswith("bearer ") and " " in header else ""
    if raw.startswith(job_tracking.JOB_TOKEN_PREFIX):
        job = job_tracking.job_for_token(raw)
        if job is None:
            raise MlflowError("This job token is invalid or its job has ended.", "UNAUTHENTICATED")
        caller = Caller(job=job)
    elif header:
        try:
            result = BearerTokenAuthentication().authenticate(request)
        except drf_exceptions.AuthenticationFailed as exc:
            raise MlflowError(str(exc.detail), "UNAUTHENTICATED") from None
        if not result:
            raise MlflowError("Send a job token or a personal access token as 'Bearer <token>'.", "UNAUTHENTICATED")
        caller = Caller(user=result[0])
    elif request.user.is_authenticated:
        # A browser: a cross-site form or fetch must not act with its cookie.
        if request.method not in ("GET", "HEAD", "OPTIONS") and (failure := _csrf_failure(request)):
            raise MlflowError(failure, "PERMISSION_DENIED")
        caller = Caller(user=request.user)
    if caller is None:
        raise MlflowError("Send a job token or a personal access token as 'Bearer <token>'.", "UNAUTHENTICATED")
    if workspace_name is not None:
        workspace = Workspace.objects.filter(name=workspace_name).first()
        if workspace is None or not caller.can_read(workspace):
            raise MlflowError(f"No workspace '{workspace_name}'.", "RESOURCE_DOES_NOT_EXIST")
        caller.workspace = workspace
    return caller
