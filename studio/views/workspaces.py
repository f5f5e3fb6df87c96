"""Workspace pages: list, create, home, settings, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView, ListView, TemplateView

from studio import deletion, home, services
from studio.forms import WorkspaceCreateForm, WorkspaceDeleteForm, WorkspaceSettingsForm, apply_errors
from studio.models import ActivityEvent, Membership, Workspace
from studio.views.base import WorkspaceMixin


class HomeView(LoginRequiredMixin, TemplateView):
    """`/`: back to the workspace used last, else the list of workspaces."""

    def get(self, request, *args, **kwargs):
        mine = Workspace.objects.for_user(request.user)
        last = request.session.get("workspace")
        if last and mine.filter(name=last).exists():
            return redirect("studio:workspace_home", last)
        only = list(mine.values_list("name", flat=True)[:2])
        if len(only) == 1:
            return redirect("studio:workspace_home", only[0])
        return redirect("studio:workspace_list")


class WorkspaceListView(LoginRequiredMixin, ListView):
    template_name = "studio/workspace_list.html"
    context_object_name = "workspaces"
    paginate_by = 50

    def get_queryset(self):
        qs = Workspace.objects.for_user(self.request.user).with_member_count().order_by("name")
        if q := self.request.GET.get("q", "").strip():
            qs = qs.filter(name__icontains=q)
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        roles = Membership.objects.filter(user=self.request.user, workspace__in=[w.pk for w in context["workspaces"]])
        by_ws = {m.workspace_id: m.role.name for m in roles.select_related("role")}
        for w in context["workspaces"]:
            w.my_role = by_ws.get(w.pk)
        context["q"] = self.request.GET.get("q", "")
        return context


class WorkspaceCreateView(LoginRequiredMixin, FormView):
    template_name = "studio/workspace_form.html"
    form_class = WorkspaceCreateForm

    def form_valid(self, form):
        try:
            workspace = services.do_create_workspace(actor=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Workspace {workspace.name} created. You are its Owner.")
        return redirect(workspace)


class WorkspaceHomeView(WorkspaceMixin, TemplateView):
    template_name = "studio/workspace_home.html"
    section = "home"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ws = self.workspace
        context["member_count"] = Membership.objects.filter(workspace=ws).count()
        context["recent"] = ActivityEvent.objects.filter(workspace=ws).select_related("actor")[:8]
        context["my_membership"] = Membership.objects.select_related("role").get(workspace=ws, user=self.request.user)
        context["cards"] = home.summary_cards(ws, context["member_count"])
        context["recent_jobs"] = home.recent_jobs(ws)
        return context


class WorkspaceSettingsView(WorkspaceMixin, FormView):
    template_name = "studio/workspace_settings.html"
    form_class = WorkspaceSettingsForm
    required_action = "workspace.view"
    post_action = "workspace.manage"
    section = "settings"

    def get_initial(self):
        return {"description": self.workspace.description, "tags": self.workspace.tags}

    def form_valid(self, form):
        try:
            services.do_update_workspace(self.workspace, actor=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Settings saved.")
        return redirect("studio:workspace_settings", self.workspace.name)


class WorkspaceDeleteView(WorkspaceMixin, FormView):
    template_name = "studio/workspace_confirm_delete.html"
    form_class = WorkspaceDeleteForm
    required_action = "workspace.delete"
    post_action = "workspace.delete"
    section = "settings"

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"workspace": self.workspace}

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"goes": deletion.lines(deletion.inventory(self.workspace))}

    def form_valid(self, form):
        name = self.workspace.name
        services.do_delete_workspace(self.workspace, actor=self.request.user, confirm=form.cleaned_data["confirm"])
        self.request.session.pop("workspace", None)
        messages.success(self.request, f"Workspace {name} and everything in it was deleted.")
        return redirect(reverse("studio:workspace_list"))
