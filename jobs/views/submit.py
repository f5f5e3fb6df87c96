"""The "Create job" form (and "Clone", which pre-fills it from an earlier job)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView, TemplateView

from jobs import services
from jobs.forms import JobForm, inputs_text, outputs_text, pairs_text
from jobs.models import Experiment, Job
from studio import versioning
from studio.forms import apply_errors
from studio.views.base import WorkspaceMixin


def environment_choices(workspace) -> list:
    """Grouped choices: the workspace's own environments, then the curated ones."""
    from environments.models import Environment

    own, curated = [], []
    for env in Environment.objects.visible_in(workspace).order_by("name"):
        (curated if env.workspace_id is None else own).append((env.name, env.name))
    groups = []
    if own:
        groups.append(("Custom environments", own))
    if curated:
        groups.append(("Curated environments", curated))
    return groups


def environment_versions(workspace, name: str) -> list[str]:
    from environments.models import EnvironmentVersion

    rows = EnvironmentVersion.objects.visible_in(workspace).filter(environment__name=name, archived=False)
    return sorted(rows.values_list("version", flat=True), key=versioning.version_sort_key, reverse=True)


def compute_choices(workspace) -> list[tuple[str, str]]:
    from compute.models import ComputeTarget

    return [
        (t.name, f"{t.name} — {t.get_type_display()}, {t.backend}")
        for t in ComputeTarget.objects.filter(workspace=workspace).order_by("name")
    ]


class JobCreateView(WorkspaceMixin, FormView):
    template_name = "jobs/job_form.html"
    form_class = JobForm
    section = "jobs"
    required_action = "jobs.submit"
    post_action = "jobs.submit"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        experiments = list(Experiment.objects.filter(workspace=self.workspace).values_list("name", flat=True))
        if "Default" not in experiments:
            experiments.insert(0, "Default")
        kwargs |= {
            "environments": environment_choices(self.workspace),
            "computes": compute_choices(self.workspace),
            "experiments": experiments,
        }
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["environment"].widget.attrs.update(
            {
                "hx-get": reverse("jobs:job_env_versions", args=[self.workspace.name]),
                "hx-target": "#env-versions",
                "hx-trigger": "change",
            }
        )
        return form

    def source_job(self) -> Job | None:
        """The job being cloned (?clone=<name>), fetched once per request (initial and context use it)."""
        if not hasattr(self, "_source_job"):
            name = self.request.GET.get("clone") or self.request.POST.get("clone")
            self._source_job = (
                Job.objects.filter(workspace=self.workspace, name=name).select_related("code", "experiment").first()
                if name
                else None
            )
        return self._source_job

    def get_initial(self):
        initial = {"experiment": "Default", "compute": "local", "environment_version": "latest"}
        job = self.source_job()
        if job is None:
            return initial
        resources = job.resources or {}
        memory = resources.get("memory")
        return initial | {
            "code_source": "reuse" if job.code_id else "none",
            "code_id": job.code.hash if job.code_id else "",
            "command": job.command,
            "environment": job.environment_name,
            "environment_version": job.environment_version_label or "latest",
            "compute": job.compute_name,
            "experiment": job.experiment.name,
            "display_name": job.display_name,
            "description": job.description,
            "inputs": inputs_text(job.inputs),
            "outputs": outputs_text(job.outputs),
            "environment_variables": pairs_text(job.environment_variables),
            "cpu": resources.get("cpu"),
            "memory": f"{memory // (1024 * 1024)}m" if memory else "",
            "timeout_minutes": (job.timeout_seconds + 59) // 60 if job.timeout_seconds else None,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        env = form["environment"].value() or (form.fields["environment"].choices and _first_choice(form))
        context["versions"] = environment_versions(self.workspace, env) if env else []
        context["clone_of"] = self.source_job()
        return context

    def form_valid(self, form):
        snapshot = None
        try:
            snapshot = self.upload_code(form.cleaned_data["code_source"])
            job = services.do_submit_job(
                self.workspace, actor=self.request.user, data=form.to_spec(), code=snapshot, source="form"
            )
        except ValidationError as exc:
            apply_errors(form, _map_errors(exc))
            return self.form_invalid(form, snapshot, status=400)
        return redirect("jobs:job_outputs", self.workspace.name, job.name)

    def form_invalid(self, form, snapshot=None, status=200):
        """Errors elsewhere never cost the user their upload: a browser cannot refill a file input,
        so the picked code is stored now (snapshots are content-addressed: submitting again
        reuses it) and the form comes back on "Same code as before"."""
        if snapshot is None and form.data.get("code_source") in ("zip", "folder"):
            try:
                snapshot = self.upload_code(form.data["code_source"])
            except ValidationError:
                snapshot = None  # the upload itself is what is wrong; its error is on the form
        if snapshot is not None:
            data = form.data.copy()
            data["code_source"], data["code_id"] = "reuse", snapshot.hash
            form.data = data
        context = self.get_context_data(form=form)
        context["kept_code"] = snapshot
        return self.render_to_response(context, status=status)

    def upload_code(self, source: str):
        """The code snapshot for a zip or folder upload (None for other sources)."""
        if source == "zip":
            upload = self.request.FILES.get("code_zip")
            if not upload:
                return None
            return services.do_create_code_snapshot(self.workspace, actor=self.request.user, zip_file=upload)
        if source == "folder":
            uploads = self.request.FILES.getlist("code_folder")
            paths = self.request.POST.getlist("code_paths")
            if not uploads:
                raise ValidationError({"code_source": ["Choose a folder to upload (or pick another option)."]})
            names = [paths[i] if i < len(paths) and paths[i] else f.name for i, f in enumerate(uploads)]
            return services.do_create_code_snapshot(
                self.workspace, actor=self.request.user, files=list(zip(names, uploads, strict=True))
            )
        return None


def _first_choice(form) -> str:
    choices = form.fields["environment"].choices
    first = choices[0]
    return first[1][0][0] if isinstance(first[1], (list, tuple)) else first[0]


def _map_errors(exc: ValidationError) -> ValidationError:
    """Service errors keyed by spec fields, put on the form's fields where they have one."""
    if not hasattr(exc, "error_dict"):
        return exc
    mapping = {
        "code": "code_source",
        "experiment_name": "new_experiment",
        "limits.timeout": "timeout_minutes",
        "resources.cpu": "cpu",
        "resources.memory": "memory",
        "spec": None,
    }
    out: dict = {}
    for field, messages in exc.message_dict.items():
        target = mapping.get(field, field.split(".")[0])
        out.setdefault(target or "__all__", []).extend(messages)
    return ValidationError(out)


class EnvironmentVersionsView(WorkspaceMixin, TemplateView):
    """htmx: the version <select> for the chosen environment."""

    template_name = "jobs/_env_versions.html"
    required_action = "jobs.submit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["versions"] = environment_versions(self.workspace, self.request.GET.get("environment", ""))
        context["selected"] = "latest"
        return context
