"""Endpoint pages under /w/<workspace>/endpoints/: the list, create, Deploy (also reached from a
model version's page), and the endpoint page with its tabs (Deployments with the traffic split,
Consume, Test, Logs). Every change goes through the same services as the REST API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import FormView, TemplateView

from endpoints import deploying, keys, services, views_metrics
from endpoints.api.views import scoring_uri
from endpoints.forms import NEW_ENDPOINT, DeployForm, EndpointForm, TrafficForm, default_environment
from endpoints.models import DeploymentInstance, InstanceStatus, OnlineDeployment, OnlineEndpoint
from registry.hooks import Link
from registry.models import ModelVersion
from studio.errors import Conflict
from studio.forms import apply_errors
from studio.permissions import can
from studio.views.base import WorkspaceMixin

WRITE = "endpoints.write"


@dataclass(frozen=True)
class Tab:
    """One tab of the endpoint page: `/w/<ws>/endpoints/<name>/<key>/` renders
    templates/endpoints/_tab_<key>.html with the page's context, plus what `context(request,
    endpoint)` adds (a dict), for those whose role allows `action`."""

    key: str
    label: str
    action: str = "workspace.view"
    context: Callable[..., dict] | None = None


def _logs_context(request, endpoint: OnlineEndpoint) -> dict:
    """The Logs tab: a deployment (?deployment=, else the first) and its instances, one open."""
    deployments = list(endpoint.deployments.all())
    wanted = request.GET.get("deployment", "")
    selected = request.GET.get("file", "")
    if not wanted and selected:  # the log viewer keeps only ?file=<instance> in the address
        wanted = next((d.name for d in deployments for i in d.instances.all() if str(i.pk) == selected), "")
    chosen = next((d for d in deployments if d.name == wanted), deployments[0] if deployments else None)
    instances = list(chosen.instances.select_related("node")) if chosen else []
    if not any(str(i.pk) == selected for i in instances):
        selected = str(instances[0].pk) if instances else ""
    return {"log_deployment": chosen, "log_instances": instances, "selected_instance": selected}


# The endpoint page's tabs, in order.
TABS: list[Tab] = [
    Tab("deployments", "Deployments"),
    Tab("consume", "Consume"),
    Tab("test", "Test", WRITE),
    Tab("logs", "Logs", context=_logs_context),
    Tab("metrics", "Metrics", context=views_metrics.metrics_context),
    # Mirrored request and answer bodies: for those who may change the endpoint, like its keys.
    Tab("comparison", "Comparison", WRITE, context=views_metrics.comparison_context),
]


@dataclass
class DeploymentRow:
    """A deployment as the pages show it: its instances counted by state."""

    deployment: OnlineDeployment
    share: int
    ready: int
    failed: int
    detail: str

    @property
    def state(self) -> str:
        desired = self.deployment.instance_count
        if self.ready >= desired:
            return "healthy"
        if self.failed:
            return "failed"
        return "starting"


def deployment_rows(endpoint: OnlineEndpoint) -> list[DeploymentRow]:
    rows = []
    for deployment in endpoint.deployments.select_related("compute"):
        live = [i for i in deployment.instances.all() if i.status != InstanceStatus.STOPPED]
        failed = [i for i in live if i.status == InstanceStatus.FAILED]
        rows.append(
            DeploymentRow(
                deployment=deployment,
                share=int(endpoint.traffic.get(deployment.name, 0)),
                ready=sum(1 for i in live if i.status == InstanceStatus.READY),
                failed=len(failed),
                detail=failed[0].detail[-3000:] if failed else "",
            )
        )
    return rows


STATE_LABELS = {"healthy": "Healthy", "starting": "Starting", "failed": "Failing", "empty": "No deployment"}


def endpoint_state(rows: list[DeploymentRow]) -> str:
    """One word for an endpoint: failing if a deployment fails, starting while one is not ready."""
    if not rows:
        return "empty"
    states = {r.state for r in rows}
    return "failed" if "failed" in states else "starting" if "starting" in states else "healthy"


def _endpoints(workspace):
    instances = Prefetch("deployments__instances", queryset=DeploymentInstance.objects.order_by("pk"))
    return OnlineEndpoint.objects.filter(workspace=workspace).prefetch_related("deployments", instances)


class EndpointListView(WorkspaceMixin, TemplateView):
    """Every online endpoint: its state, traffic split and deployments."""

    template_name = "endpoints/endpoint_list.html"
    section = "endpoints"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").strip()
        endpoints = _endpoints(self.workspace)
        if q:
            endpoints = endpoints.filter(name__icontains=q)
        rows = []
        for endpoint in endpoints:
            deployments = deployment_rows(endpoint)
            rows.append((endpoint, deployments, endpoint_state(deployments)))
        context.update(q=q, rows=rows, state_labels=STATE_LABELS)
        return context


class EndpointCreateView(WorkspaceMixin, FormView):
    template_name = "endpoints/endpoint_form.html"
    form_class = EndpointForm
    section = "endpoints"
    required_action = WRITE
    post_action = WRITE

    def form_valid(self, form):
        try:
            endpoint = services.do_create_endpoint(self.workspace, dict(form.cleaned_data), actor=self.request.user)
        except Conflict as exc:
            form.add_error("name", exc.messages[0])
            return self.form_invalid(form)
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Endpoint {endpoint.name} created: add a deployment to serve a model.")
        return redirect(_endpoint_url(endpoint))


class DeployView(WorkspaceMixin, FormView):
    """Deploy a model version (`?model=azureml:name:version`) to a new or an existing endpoint
    (`?endpoint=name`)."""

    template_name = "endpoints/deploy_form.html"
    form_class = DeployForm
    section = "endpoints"
    required_action = WRITE
    post_action = WRITE

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["workspace"] = self.workspace
        kwargs["endpoints"] = list(
            OnlineEndpoint.objects.filter(workspace=self.workspace).values_list("name", flat=True)
        )
        return kwargs

    def get_initial(self):
        initial = {}
        model = self.request.GET.get("model", "").strip()
        if model:
            initial["model"] = model if model.startswith("azureml:") else f"azureml:{model}"
            initial["endpoint_name"] = _suggest_endpoint_name(model)
        if not _is_mlflow(self.workspace, initial.get("model", "")):
            # A script deployment needs an environment: one that can serve, the workspace's own first.
            initial["environment"] = default_environment(self.workspace)
        endpoint = OnlineEndpoint.objects.filter(
            workspace=self.workspace, name=self.request.GET.get("endpoint", "")
        ).first()
        if endpoint is not None:
            initial["endpoint"] = endpoint.name
            taken = set(endpoint.deployments.values_list("name", flat=True))
            initial["name"] = next((n for n in ("blue", "green", "red", "yellow") if n not in taken), "")
        else:
            initial["endpoint"] = NEW_ENDPOINT
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["no_models"] = not form.fields["model"].choices
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        endpoint = None
        if data["endpoint"] != NEW_ENDPOINT:
            endpoint = OnlineEndpoint.objects.filter(workspace=self.workspace, name=data["endpoint"]).first()
            if endpoint is None:
                form.add_error("endpoint", f"There is no endpoint {data['endpoint']} any more.")
                return self.form_invalid(form)
        # A picked folder's files, each with its path relative to the folder (sent by the page's script).
        files = self.request.FILES.getlist("code_folder")
        paths = self.request.POST.getlist("code_paths")
        folder = [(paths[i] if i < len(paths) and paths[i] else f.name, f) for i, f in enumerate(files)]
        if folder and not data["scoring_script"]:
            form.add_error("scoring_script", "Say which file in the folder is the scoring script.")
            return self.form_invalid(form)
        try:
            code, script = deploying.code_from_upload(
                self.workspace, actor=self.request.user, upload=data["code"], folder=folder
            )
            fields = {"name": data["name"], "model": data["model"], "instance_count": data["instance_count"]}
            if data["environment"]:
                fields["environment"] = data["environment"]
            if data["compute"]:
                fields["compute"] = data["compute"]
            if code is not None:
                fields["code_configuration"] = {"code": code.pk, "scoring_script": data["scoring_script"] or script}
            deployment = deploying.deploy(
                self.workspace,
                endpoint=endpoint,
                new_endpoint={"name": data["endpoint_name"], "auth_mode": data["auth_mode"]},
                deployment=fields,
                actor=self.request.user,
            )
        except Conflict as exc:  # a name clash: of the new endpoint's name, or the deployment's
            clash = "endpoint_name" if "online endpoint named" in exc.messages[0] else "name"
            form.add_error(clash, exc.messages[0])
            return self.form_invalid(form)
        except ValidationError as exc:
            apply_errors(form, _deploy_errors(exc))
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Deploying {deployment.model} as {deployment.name}: its instances start in the background.",
        )
        return redirect(_endpoint_url(deployment.endpoint))


def _is_mlflow(workspace, ref: str) -> bool:
    """Whether `azureml:name:version` names an MLflow model of the workspace."""
    name, _, version = ref.removeprefix("azureml:").partition(":")
    found = ModelVersion.objects.filter(workspace=workspace, model__name=name, version=version).first()
    return found is not None and found.type == ModelVersion.Type.MLFLOW


def deploy_link(request, workspace, version) -> Link | None:
    """The "Deploy" button of a model version's page, for those who may deploy."""
    if not can(request.user, workspace, WRITE):
        return None
    url = reverse("endpoints:deploy", args=[workspace.name])
    return Link("Deploy", f"{url}?{urlencode({'model': f'azureml:{version.model.name}:{version.version}'})}", True)


def _suggest_endpoint_name(model_ref: str) -> str:
    """`azureml:iris-classifier:3` -> `iris-classifier-ep` (kept within Azure's name rule)."""
    name = model_ref.removeprefix("azureml:").split(":", 1)[0]
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in name).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"ep-{cleaned}"
    return f"{cleaned[:29].rstrip('-')}-ep"


def _deploy_errors(exc: ValidationError) -> ValidationError:
    """Service errors put on the Deploy form's fields (the code's on the upload)."""
    if not hasattr(exc, "error_dict"):
        return exc
    errors: dict[str, list[str]] = {}
    for field, msgs in exc.message_dict.items():
        errors.setdefault("code" if field == "code_configuration" else field, []).extend(msgs)
    return ValidationError(errors)


def _endpoint_url(endpoint: OnlineEndpoint, tab: str = "deployments") -> str:
    return reverse("endpoints:endpoint_detail", args=[endpoint.workspace.name, endpoint.name, tab])


class EndpointMixin(WorkspaceMixin):
    section = "endpoints"

    def get_endpoint(self) -> OnlineEndpoint:
        found = _endpoints(self.workspace).filter(name=self.kwargs["name"]).first()
        if found is None:
            raise Http404("No such endpoint.")
        return found


class EndpointDetailView(EndpointMixin, TemplateView):
    """The endpoint page, one tab per URL (`.../<tab>/`)."""

    template_name = "endpoints/endpoint_detail.html"

    def tabs(self) -> list[Tab]:
        return [t for t in TABS if can(self.request.user, self.workspace, t.action)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.get_endpoint()
        tabs = self.tabs()
        tab = next((t for t in tabs if t.key == self.kwargs["tab"]), None)
        if tab is None:
            raise Http404("No such tab.")
        rows = deployment_rows(endpoint)
        context.update(
            endpoint=endpoint,
            tabs=tabs,
            tab=tab.key,
            rows=rows,
            state=endpoint_state(rows),
            state_labels=STATE_LABELS,
            settling=any(r.state != "healthy" for r in rows),
            scoring_uri=scoring_uri(self.request, endpoint),
            traffic_total=sum(r.share for r in rows),
        )
        if tab.context is not None:
            context.update(tab.context(self.request, endpoint))
        return context


class DeploymentRowsView(EndpointMixin, TemplateView):
    """The Deployments table alone, polled by htmx while an instance is not ready yet; answers
    286 (htmx: stop polling) once every deployment is healthy."""

    template_name = "endpoints/_deployment_rows.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.get_endpoint()
        rows = deployment_rows(endpoint)
        context.update(
            endpoint=endpoint,
            rows=rows,
            settling=any(r.state != "healthy" for r in rows),
            state=endpoint_state(rows),
            state_labels=STATE_LABELS,
            oob=True,
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if not context["settling"]:
            response.status_code = 286
        return response


class TrafficView(EndpointMixin, View):
    """POST `traffic-<deployment>` percents: the same traffic check and service as the API."""

    post_action = WRITE

    def post(self, request, workspace, name):
        endpoint = self.get_endpoint()
        form = TrafficForm(request.POST, deployments=[d.name for d in endpoint.deployments.all()])
        try:
            if not form.is_valid():
                raise ValidationError([f"{k.removeprefix('traffic-')}: {' '.join(v)}" for k, v in form.errors.items()])
            services.do_update_endpoint(endpoint, {"traffic": form.traffic()}, actor=request.user)
            split = ", ".join(f"{k} {v}%" for k, v in form.traffic().items()) or "none"
            messages.success(request, f"Traffic saved: {split}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(_endpoint_url(endpoint))


class KeysView(EndpointMixin, TemplateView):
    """GET: the keys, shown on demand (an htmx partial, or JSON for the Test tab's script)."""

    template_name = "endpoints/_keys.html"
    required_action = WRITE

    def get(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        found = keys.read(endpoint)
        if request.GET.get("format") == "json":
            response = JsonResponse({"primary_key": found["primary"], "secondary_key": found["secondary"]})
        else:
            response = self.render_to_response(self.get_context_data(endpoint=endpoint, keys=found))
        response["Cache-Control"] = "no-store"
        return response


class RegenerateKeyView(EndpointMixin, View):
    post_action = WRITE

    def post(self, request, workspace, name):
        endpoint = self.get_endpoint()
        key_type = request.POST.get("key_type", "")
        try:
            services.do_regenerate_key(endpoint, key_type, actor=request.user)
            messages.success(
                request, f"The {key_type} key of {endpoint.name} was regenerated; the old one no longer works."
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(_endpoint_url(endpoint, "consume"))


class EndpointDeleteView(EndpointMixin, View):
    post_action = WRITE

    def post(self, request, workspace, name):
        endpoint = self.get_endpoint()
        services.do_delete_endpoint(endpoint, actor=request.user)
        messages.success(request, f"Endpoint {endpoint.name} deleted; its instances stop.")
        return redirect("endpoints:endpoint_list", self.workspace.name)


class DeploymentDeleteView(EndpointMixin, View):
    post_action = WRITE

    def post(self, request, workspace, name, deployment):
        endpoint = self.get_endpoint()
        found = endpoint.deployments.filter(name=deployment).first()
        if found is None:
            raise Http404("No such deployment.")
        try:
            services.do_delete_deployment(found, actor=request.user)
            messages.success(request, f"Deployment {deployment} deleted.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(_endpoint_url(endpoint))


class ScaleView(EndpointMixin, View):
    """POST `instance_count` of one deployment (the same update service as the API's PATCH)."""

    post_action = WRITE

    def post(self, request, workspace, name, deployment):
        endpoint = self.get_endpoint()
        found = endpoint.deployments.filter(name=deployment).first()
        if found is None:
            raise Http404("No such deployment.")
        try:
            count = int(request.POST.get("instance_count", ""))
        except ValueError:
            messages.error(request, "instance_count is a whole number.")
            return redirect(_endpoint_url(endpoint))
        try:
            services.do_update_deployment(found, {"instance_count": count}, actor=request.user)
            messages.success(request, f"{deployment} now wants {count} instance{'s' if count != 1 else ''}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(_endpoint_url(endpoint))
