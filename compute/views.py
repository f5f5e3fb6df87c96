"""Pages of the compute app: the Compute page (tabs per kind), a target's page with its live node
list, and the forms that create, edit and delete targets. Thin: compute.services acts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from compute import local_scaler, services
from compute.filters import ComputeFilter
from compute.forms import ComputeForm, YAMLForm
from compute.models import TAB_OF_TYPE, ComputeTarget, ComputeType, NodeState, TargetState
from compute.overview import attach
from compute.spec import parse_yaml
from studio.forms import apply_errors
from studio.models import ActivityEvent, Membership
from studio.permissions import VIEW, can, can_manage_machine, can_operate_compute
from studio.views.base import PartialMixin, WorkspaceMixin

MANAGE = "compute.manage"
STATUS_STOP_POLLING = 286  # htmx stops polling on this status

TABS = [
    ("instances", "Compute instances", [ComputeType.INSTANCE]),
    ("clusters", "Compute clusters", [ComputeType.CLUSTER]),
    ("attached", "Attached compute", [ComputeType.ATTACHED]),
    ("local", "Local & Docker", [ComputeType.LOCAL, ComputeType.DOCKER]),
]
TAB_TYPES = {key: types for key, _, types in TABS}
NEW_TYPE_OF_TAB = {
    "instances": ComputeType.INSTANCE,
    "clusters": ComputeType.CLUSTER,
    "attached": ComputeType.ATTACHED,
    "local": ComputeType.DOCKER,
}
TRANSITIONAL = (TargetState.STARTING, TargetState.STOPPING)
CREATABLE = [ComputeType.INSTANCE, ComputeType.CLUSTER, ComputeType.ATTACHED, ComputeType.DOCKER]
NEW_LABEL = {
    ComputeType.INSTANCE: "New compute instance",
    ComputeType.CLUSTER: "New compute cluster",
    ComputeType.ATTACHED: "Attach a Docker engine",
    ComputeType.DOCKER: "New Docker target",
}
SEGMENT_LABEL = {
    ComputeType.INSTANCE: "Compute instance",
    ComputeType.CLUSTER: "Compute cluster",
    ComputeType.ATTACHED: "Attached Docker engine",
    ComputeType.DOCKER: "Docker on a node",
}


class TargetMixin(WorkspaceMixin):
    """Pages of the target named in the URL (`get_object`: through the workspace, 404 elsewhere)."""

    queryset = ComputeTarget.objects.select_related("workspace", "created_by", "assigned_to")


class LiveMixin(PartialMixin):
    """A page whose partial polls while `context["live"]`; a poll answered when nothing moves gets
    STATUS_STOP_POLLING so htmx stops asking."""

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if self.serves_partial() and not context["live"]:
            response.status_code = STATUS_STOP_POLLING
        return response


def _back(request, default: str):
    """Redirect to `next` when it is a local URL, else to `default`."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


class ComputeListView(WorkspaceMixin, LiveMixin, ListView):
    """The Compute page: one tab per kind of target, rows refreshed live while anything moves."""

    template_name = "compute/compute_list.html"
    partial_template_name = "compute/_compute_rows.html"
    context_object_name = "targets"
    section = "compute"
    paginate_by = 100

    def get_tab(self) -> str:
        tab = self.request.GET.get("tab", "")
        return tab if tab in TAB_TYPES else "instances"

    def get_queryset(self):
        qs = ComputeTarget.objects.filter(workspace=self.workspace).of_types(*TAB_TYPES[self.get_tab()])
        qs = qs.select_related("workspace", "created_by", "assigned_to").order_by("name")
        self.filterset = ComputeFilter(self.request.GET, queryset=qs)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        targets = attach(context["targets"])
        context["targets"] = targets
        tab = self.get_tab()
        context["tab"] = tab
        context["q"] = self.request.GET.get("q", "")
        if not self.serves_partial():  # the rows poll every few seconds and show no tabs
            counts = dict(
                ComputeTarget.objects.filter(workspace=self.workspace)
                .values_list("type")
                .annotate(n=Count("pk"))
                .values_list("type", "n")
            )
            context["tabs"] = [(key, label, sum(counts.get(t, 0) for t in types)) for key, label, types in TABS]
            context["new_type"] = NEW_TYPE_OF_TAB[tab]
            context["new_label"] = NEW_LABEL[NEW_TYPE_OF_TAB[tab]]
            context["yaml_form"] = YAMLForm()
        context["live"] = any(
            t.state in TRANSITIONAL or t.overview.nodes or t.overview.queued or t.overview.running for t in targets
        )
        return context


class ComputeDetailView(TargetMixin, LiveMixin, DetailView):
    """A target's page: properties, how to start a node, autoscale figures and the live node list."""

    template_name = "compute/compute_detail.html"
    partial_template_name = "compute/_live.html"
    context_object_name = "target"
    section = "compute"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        target = attach([self.object])[0]
        nodes = list(target.nodes().recent()[:50])
        context["nodes"] = nodes
        context["live_nodes"] = [n for n in nodes if n.is_live]
        context["may_manage"] = can(self.request.user, self.workspace, MANAGE)
        context["may_operate"] = can_operate_compute(self.request.user, target)
        context["may_manage_machine"] = can_manage_machine(self.request.user, target)
        context["probe"] = target.probes.select_related("created_by").first()
        context["scaler_command"] = settings.STUDIO_SCALER_COMMAND
        context["local_scaler"] = local_scaler.enabled()
        context["heartbeat_seconds"] = settings.STUDIO_NODE_HEARTBEAT_SECONDS
        context["unreachable_seconds"] = settings.STUDIO_NODE_UNREACHABLE_SECONDS
        context["celery_name"] = f"{target.address.replace('/', '.')}.1@%h"
        context["events"] = ActivityEvent.objects.filter(
            workspace=self.workspace, verb__startswith="compute.", target=target.name
        ).select_related("actor")[:8]
        context["tab"] = target.tab
        # Keep polling while something can change without a click here: a node may appear
        # (any target that is not a stopped instance), a node is up, or a probe is on its way.
        waiting_probe = context["probe"] is not None and context["probe"].started_at is None
        context["live"] = target.state != TargetState.STOPPED or bool(context["live_nodes"]) or waiting_probe
        return context


def _members(workspace) -> list[str]:
    return list(
        Membership.objects.filter(workspace=workspace, user__is_active=True)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )


def _saved(request, target, message: str):
    """Flash `message` and the service's notices about `target`, then go to its page."""
    messages.success(request, message)
    for notice in getattr(target, "notices", []) or []:
        messages.info(request, notice)
    return redirect(target)


def _yaml_errors(form, exc: ValidationError) -> None:
    """Like studio's apply_errors, but the YAML form has one box: every message goes on top, named
    by the key it is about."""
    for field, msgs in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
        for msg in msgs:
            form.add_error(None, msg if field in (None, "spec", "__all__") else f"{field}: {msg}")


class ComputeCreateView(WorkspaceMixin, FormView):
    """New target of one kind (?type=cluster|instance|attached|docker)."""

    template_name = "compute/compute_form.html"
    form_class = ComputeForm
    required_action = MANAGE
    post_action = MANAGE
    section = "compute"

    def get_kind(self) -> str:
        kind = self.request.POST.get("type") or self.request.GET.get("type") or ComputeType.CLUSTER
        return kind if kind in CREATABLE else ComputeType.CLUSTER

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"kind": self.get_kind(), "members": _members(self.workspace)}

    def get_initial(self):
        return {"assigned_to": self.request.user.get_username()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["kind"] = self.get_kind()
        context["title"] = NEW_LABEL[context["kind"]]
        context["creatable"] = [(t.value, SEGMENT_LABEL[t]) for t in CREATABLE]
        context["tab"] = TAB_OF_TYPE[context["kind"]]
        return context

    def form_valid(self, form):
        try:
            target = services.do_create_compute(self.workspace, data=form.definition(), actor=self.request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        return _saved(self.request, target, f"{target.get_type_display()} {target.name} created.")


class ComputeYAMLView(WorkspaceMixin, FormView):
    """New target from an Azure ML CLI v2 compute YAML."""

    template_name = "compute/compute_yaml.html"
    form_class = YAMLForm
    required_action = MANAGE
    post_action = MANAGE
    section = "compute"

    def form_valid(self, form):
        try:
            data = parse_yaml(form.cleaned_data["text"], source=form.cleaned_data["source"])
            target = services.do_create_compute(self.workspace, data=data, actor=self.request.user)
        except ValidationError as exc:
            _yaml_errors(form, exc)
            return self.form_invalid(form)
        return _saved(self.request, target, f"{target.get_type_display()} {target.name} created from YAML.")


class ComputeEditView(TargetMixin, FormView):
    template_name = "compute/compute_form.html"
    form_class = ComputeForm
    required_action = MANAGE
    post_action = MANAGE
    section = "compute"

    def get_form_kwargs(self):
        target = self.get_object()
        return super().get_form_kwargs() | {
            "kind": target.type,
            "members": _members(self.workspace),
            "target": target,
            "machine_locked": not can_manage_machine(self.request.user, target),
        }

    def get_initial(self):
        t = self.get_object()
        custom = not t.size  # named sizes leave the override boxes empty, so picking another size works
        return {
            "name": t.name,
            "description": t.description,
            "tags": t.tags,
            "size": t.size or "custom",
            "cpu_cores": t.cpu_cores if custom else None,
            "memory_mb": t.memory_mb if custom else None,
            "gpus": t.gpus if custom else None,
            "backend": t.backend,
            "min_instances": t.min_instances,
            "max_instances": t.max_instances,
            "idle_time_before_scale_down": t.idle_time_before_scale_down,
            "tier": t.tier,
            "assigned_to": t.assigned_to.get_username() if t.assigned_to else "",
            "docker_host": t.docker_host,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        target = self.get_object()
        context.update(target=target, kind=target.type, title=f"Edit {target.name}", tab=target.tab)
        return context

    def form_valid(self, form):
        try:
            target = services.do_update_compute(self.get_object(), data=form.definition(), actor=self.request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        except PermissionDenied as exc:  # the shared local target's limits are the administrator's
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        return _saved(self.request, target, f"{target.name} saved.")


class ComputeDeleteView(TargetMixin, View):
    required_action = MANAGE
    post_action = MANAGE

    def post(self, request, workspace, name):
        target = self.get_object()
        try:
            services.do_delete_compute(target, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(target)
        messages.success(request, f"{target.get_type_display()} {target.name} deleted.")
        return redirect(f"{reverse('compute:compute_list', args=[self.workspace.name])}?tab={target.tab}")


class _OperateView(TargetMixin, View):
    """Start/stop: compute.manage, or the member an instance is assigned to."""

    required_action = VIEW
    post_action = VIEW
    verb = ""

    def post(self, request, workspace, name):
        target = services.check_can_operate(request.user, self.get_object())
        try:
            target = self.act(target)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{target.name}: {target.state.lower()}.")
        return _back(request, target.get_absolute_url())

    def act(self, target):
        raise NotImplementedError


class ComputeStartView(_OperateView):
    def act(self, target):
        return services.do_start_compute(target, actor=self.request.user)


class ComputeStopView(_OperateView):
    def act(self, target):
        return services.do_stop_compute(target, actor=self.request.user)


class NodeDrainView(TargetMixin, View):
    """Drain: compute.manage on the workspace's own targets; only Studio administrators on the
    shared local worker (compute.services.do_request_drain says no to anyone else)."""

    required_action = VIEW
    post_action = VIEW

    def post(self, request, workspace, name, node):
        target = self.get_object()
        node = get_object_or_404(target.nodes(), pk=node)
        try:
            services.do_request_drain(node, target=target, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"Node {node.worker_name} will finish its running jobs, take no new ones and exit."
            )
        return redirect(target)


class NodeStartView(TargetMixin, View):
    """The "Start a node" button of a cluster (the local scaler starts the process)."""

    required_action = MANAGE
    post_action = MANAGE

    def post(self, request, workspace, name):
        target = self.get_object()
        try:
            target = services.do_request_node(target, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"A node of {target.name} is starting on this machine; it appears below within seconds."
            )
        return redirect(target)


class ComputeProbeView(TargetMixin, View):
    """The "Send a test task" button: see which node picks it up, and how fast (the same rule
    as draining: the service refuses the shared local worker to workspace roles)."""

    required_action = VIEW
    post_action = VIEW

    def post(self, request, workspace, name):
        target = self.get_object()
        services.do_send_probe(target, actor=request.user)
        if not target.nodes().filter(state=NodeState.READY).exists():
            messages.warning(request, "Test task sent; no node consumes this target's queue right now, so it waits.")
        else:
            messages.success(request, "Test task sent.")
        return redirect(target)
