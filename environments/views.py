"""Pages of the environments app: browse, create, a version's detail with its builds, and the
live build log. Thin: forms gather input, spec/services/builds decide and act."""

from __future__ import annotations

import sys

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from compute.backends import KINDS
from environments import builds, context, filters, services, spec
from environments.forms import EnvironmentForm, apply_errors, initial_from
from environments.models import BuildStatus, Environment, EnvironmentBuild, EnvironmentVersion
from environments.resolve import environment_named, resolve_environment
from studio import logs, versioning, yamlspec
from studio.views.base import PartialMixin, WorkspaceMixin

WRITE = "environments.write"
POLL_SECONDS = 0.5


class EnvironmentListView(WorkspaceMixin, PartialMixin, ListView):
    """Curated and Custom tabs, name search and a tag filter (the API's filters)."""

    template_name = "environments/environment_list.html"
    partial_template_name = "environments/_environment_rows.html"
    context_object_name = "rows"
    paginate_by = 50
    section = "environments"

    @cached_property
    def tab(self) -> str:
        """The tab asked for, else Custom when the workspace has environments of its own."""
        tab = self.request.GET.get("tab", "")
        if tab in ("custom", "curated"):
            return tab
        has_custom = Environment.objects.filter(workspace=self.workspace).exists()
        return "custom" if has_custom else "curated"

    def get_queryset(self):
        params = self.request.GET.copy()
        params["curated"] = "true" if self.tab == "curated" else "false"
        return filters.environment_rows(self.workspace, params)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        tab = self.tab
        every = filters.environment_rows(self.workspace, {"curated": "true" if tab == "curated" else "false"})
        ctx |= {
            "tab": tab,
            "tags": filters.all_tags(every),
            "q": self.request.GET.get("q", ""),
            "tag": self.request.GET.get("tag", ""),
            "archived": self.request.GET.get("archived", ""),
            "custom_count": Environment.objects.filter(workspace=self.workspace).count(),
            "curated_count": Environment.objects.filter(workspace__isnull=True).count(),
            "backends": KINDS,
        }
        return ctx


class EnvironmentCreateView(WorkspaceMixin, FormView):
    """Create an environment (or a new version of one) from the form, or from a YAML file."""

    template_name = "environments/environment_form.html"
    form_class = EnvironmentForm
    required_action = WRITE
    post_action = WRITE
    section = "environments"

    def base_version(self) -> EnvironmentVersion | None:
        ref = self.request.POST.get("context_from") or self.request.GET.get("from")
        if not ref:
            return None
        try:
            return resolve_environment(self.workspace, ref)
        except ValidationError:
            return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        base = self.base_version()
        if base is not None and base.context_archive:
            kwargs["reused_files"] = context.from_zip(bytes(base.context_archive))
        return kwargs

    def get_initial(self):
        base = self.base_version()
        return initial_from(base) if base is not None else {}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["base"] = self.base_version()
        ctx["yaml_error"] = kwargs.get("yaml_error")
        return ctx

    def post(self, request, *args, **kwargs):
        if "spec_file" in request.FILES:
            return self.post_yaml(request)
        return super().post(request, *args, **kwargs)

    def post_yaml(self, request):
        """The Azure ML CLI v2 YAML route: the file (and optionally a build context zip)."""
        try:
            text = request.FILES["spec_file"].read().decode("utf-8")
            data = yamlspec.load_mapping(text, source=request.FILES["spec_file"].name)
            upload = request.FILES.get("spec_context")
            files = context.from_zip(upload.read()) if upload else None
            definition = spec.parse(data, source=request.FILES["spec_file"].name, files=files)
            version = services.do_create_environment_version(self.workspace, actor=request.user, definition=definition)
        except UnicodeDecodeError:
            return self._yaml_failed("The YAML file is not UTF-8 text.")
        except ValidationError as exc:
            return self._yaml_failed(" ".join(exc.messages))
        return self._created(version, definition.notices)

    def _yaml_failed(self, message: str):
        # The main form was not what was sent: show it as it was (unbound), not as a failed empty post.
        kwargs = {k: v for k, v in self.get_form_kwargs().items() if k not in ("data", "files")}
        form = self.get_form_class()(**kwargs)
        return self.render_to_response(self.get_context_data(form=form, yaml_error=message), status=400)

    def form_valid(self, form):
        try:
            version = services.do_create_environment_version(
                self.workspace, actor=self.request.user, definition=form.definition
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        return self._created(version, form.definition.notices)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def _created(self, version: EnvironmentVersion, notices: list[str]):
        messages.success(self.request, f"Created {version.reference}. Build it on a backend to use it.")
        for notice in notices:
            messages.info(self.request, notice)
        return redirect("environments:version_detail", self.workspace.name, version.environment.name, version.version)


class VersionMixin(WorkspaceMixin):
    """Finds the environment (own or curated) and the version named in the URL (latest when none)."""

    section = "environments"

    def get_version(self) -> EnvironmentVersion:
        name = self.kwargs["name"]
        env = environment_named(self.workspace, name)
        if env is None:
            raise Http404(f"No environment named {name}.")
        wanted = self.kwargs.get("version")
        if wanted in (None, "latest"):
            version = versioning.latest(env.versions.all()) or versioning.latest(
                env.versions.all(), include_archived=True
            )
        else:
            version = env.versions.filter(version=wanted).first()
        if version is None:
            raise Http404(f"{name} has no version {wanted}.")
        version.environment = env
        return version


class VersionDetailView(VersionMixin, TemplateView):
    template_name = "environments/version_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        version = self.get_version()
        env = version.environment
        history = list(
            EnvironmentBuild.objects.visible_in(self.workspace)
            .filter(version=version)
            .select_related("requested_by", "source__version__environment")
        )
        selected = None
        if build_id := self.request.GET.get("build", "").strip():
            selected = next((b for b in history if str(b.pk) == build_id), None)
        selected = selected or (history[0] if history else None)
        latest_ok = {}
        for build in history:
            if build.succeeded:
                latest_ok.setdefault(build.backend, build)
        failed = history[0] if history and history[0].status == "Failed" else None
        log = logs.read(selected.log_stream, 0) if selected else None
        ctx |= {
            "environment": env,
            "version": version,
            "versions": sorted(env.versions.all(), key=lambda v: versioning.version_sort_key(v.version), reverse=True),
            "history": history,
            "build": selected,
            "log": log,
            "latest_ok": latest_ok,
            "resolved": next(iter(latest_ok.values()), None),
            "failed": failed,
            "yaml": spec.to_yaml(version, conda_file_name="conda.yml"),
            "backends": KINDS,
            "job_link": _job_link(self.workspace, version),
            "reference": f"azureml:{version.reference}",
            "venv_python": _venv_python(version),
            "poll_ms": int(POLL_SECONDS * 1000),
            "queued_long": bool(
                selected
                and selected.status == BuildStatus.QUEUED
                and (timezone.now() - selected.created_at).total_seconds() > 10
            ),
        }
        return ctx


def _venv_python(version: EnvironmentVersion) -> str:
    """The Python a venv build of `version` uses: the conda file's pin, else Studio's own."""
    if version.user_managed or version.context_archive:
        return ""
    try:
        pin = builds.requirements_for(version)[1]
    except ValidationError:
        pin = None
    return pin or ".".join(str(n) for n in sys.version_info[:2])


def _job_link(workspace, version) -> str:
    """The job form prefilled with this environment, once the jobs app offers one."""
    try:
        url = reverse("jobs:job_create", args=[workspace.name])
    except NoReverseMatch:
        return ""
    return f"{url}?environment=azureml:{version.reference}"


class VersionYamlView(VersionMixin, View):
    """The definition as a YAML file Studio (and `az ml environment create`-style tools) read back."""

    def get(self, request, **kwargs):
        version = self.get_version()
        response = HttpResponse(spec.to_yaml(version), content_type="application/yaml; charset=utf-8")
        filename = f"{version.environment.name}-{version.version}.yml"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class VersionArchiveView(VersionMixin, View):
    required_action = WRITE
    post_action = WRITE

    def post(self, request, **kwargs):
        version = self.get_version()
        try:
            if request.POST.get("restore"):
                services.do_restore_environment_version(version, actor=request.user, workspace=self.workspace)
                messages.success(request, f"Restored {version.reference}.")
            else:
                services.do_archive_environment_version(version, actor=request.user, workspace=self.workspace)
                messages.success(request, f"Archived {version.reference}: hidden from lists and @latest.")
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        return redirect("environments:version_detail", self.workspace.name, version.environment.name, version.version)


class BuildStartView(VersionMixin, View):
    """POST backend=venv|docker (and rebuild=1 to skip the cache)."""

    required_action = WRITE
    post_action = WRITE

    def post(self, request, **kwargs):
        version = self.get_version()
        try:
            build, how = services.do_start_build(
                version,
                backend=request.POST.get("backend", ""),
                workspace=self.workspace,
                actor=request.user,
                force=bool(request.POST.get("rebuild")),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(
                "environments:version_detail", self.workspace.name, version.environment.name, version.version
            )
        text = {
            "queued": f"Rebuild #{build.pk} on {build.backend} started: it skips the cache; earlier builds are kept."
            if build.forced
            else f"Build #{build.pk} on {build.backend} started.",
            "running": f"Build #{build.pk} on {build.backend} is already under way.",
            "cached": f"Already built on {build.backend} "
            f"({build.reason if build.cache_hit else f'build #{build.pk}'}). "
            "Rebuild builds it again without the cache.",
        }[how]
        messages.success(request, text)
        url = reverse(
            "environments:version_detail", args=[self.workspace.name, version.environment.name, version.version]
        )
        return redirect(f"{url}?build={build.pk}#build")


class BuildLogView(WorkspaceMixin, View):
    """The build log from `?offset=`: an htmx fragment that appends to the page's log and polls
    again, answering 286 (stop polling) once the build is final; plain text otherwise."""

    def get(self, request, workspace, name, build_id):
        build = get_object_or_404(
            EnvironmentBuild.objects.visible_in(self.workspace).select_related("version__environment"),
            pk=build_id,
            version__environment__name=name,
        )
        if build.version.environment.workspace_id not in (None, self.workspace.pk):
            raise Http404
        if not request.htmx:
            return HttpResponse(logs.read_all(build.log_stream), content_type="text/plain; charset=utf-8")
        final = build.is_final  # read before the log: a final build's log is complete
        try:
            offset = max(0, int(request.GET.get("offset", "0")))
        except ValueError:
            offset = 0
        piece = logs.read(build.log_stream, offset)
        html = render_to_string(
            "environments/_build_log_tail.html",
            {
                "build": build,
                "piece": piece,
                "final": final,
                "workspace": self.workspace,
                "poll_ms": int(POLL_SECONDS * 1000),
            },
            request=request,
        )
        response = HttpResponse(html)
        if final:
            response.status_code = 286
            response["HX-Refresh"] = "true"
        return response
