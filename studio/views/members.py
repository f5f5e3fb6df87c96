"""Members and custom roles of a workspace."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView, ListView

from studio import services
from studio.forms import AddMemberForm, RoleForm, apply_errors
from studio.models import Membership, Role
from studio.permissions import ACTIONS, BUILTIN_ROLES
from studio.roles import roles_for_workspace
from studio.views.base import PartialMixin, WorkspaceMixin

User = get_user_model()


class MemberListView(WorkspaceMixin, PartialMixin, ListView):
    """The members table, the add-member form (for those who manage members) and role changes."""

    template_name = "studio/member_list.html"
    partial_template_name = "studio/_member_rows.html"
    context_object_name = "members"
    paginate_by = 100
    section = "members"
    post_action = "members.manage"

    def get_queryset(self):
        qs = Membership.objects.filter(workspace=self.workspace).select_related("user", "role")
        if q := self.request.GET.get("q", "").strip():
            qs = qs.filter(user__username__icontains=q)
        if role := self.request.GET.get("role", "").strip():
            qs = qs.filter(role__slug=role)
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        roles = list(roles_for_workspace(self.workspace))
        context["roles"] = roles
        context["form"] = kwargs.get("form") or AddMemberForm(roles=roles)
        context["q"] = self.request.GET.get("q", "")
        context["role_filter"] = self.request.GET.get("role", "")
        return context

    def post(self, request, workspace):
        """Add a member (creating their account first when asked)."""
        form = AddMemberForm(request.POST, roles=list(roles_for_workspace(self.workspace)))
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["create_account"]:
                    user = services.do_create_user(
                        username=data["username"].strip(),
                        password=data["password"],
                        email=data["email"],
                        actor=request.user,
                    )
                else:
                    user = User.objects.get(username=data["username"].strip(), is_active=True)
                role = services.resolve_role(self.workspace, data["role"])
                services.do_add_member(self.workspace, user=user, role=role, actor=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{user.get_username()} added as {role.name}.")
                return redirect("studio:member_list", self.workspace.name)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form, open_add=True), status=400)


class MemberRoleView(WorkspaceMixin, View):
    """POST a new role for one member (an htmx select, or a plain form)."""

    post_action = "members.manage"
    required_action = "members.manage"

    def post(self, request, workspace, username):
        membership = self.get_object(Membership.objects.select_related("user", "role"), user__username=username)
        try:
            role = services.resolve_role(self.workspace, request.POST.get("role", ""))
            membership = services.do_change_member_role(membership, role=role, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{username} is now {membership.role.name}.")
        return redirect("studio:member_list", self.workspace.name)


class MemberRemoveView(WorkspaceMixin, View):
    post_action = "members.manage"
    required_action = "members.manage"

    def post(self, request, workspace, username):
        membership = self.get_object(Membership, user__username=username)
        try:
            services.do_remove_member(membership, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{username} was removed from {self.workspace.name}.")
        if username == request.user.get_username():
            return redirect("studio:workspace_list")
        return redirect("studio:member_list", self.workspace.name)


class RoleListView(WorkspaceMixin, ListView):
    template_name = "studio/role_list.html"
    context_object_name = "roles"
    section = "members"

    def get_queryset(self):
        return roles_for_workspace(self.workspace)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["actions"] = ACTIONS
        context["builtin_count"] = len(BUILTIN_ROLES)
        return context


class RoleCreateView(WorkspaceMixin, FormView):
    template_name = "studio/role_form.html"
    form_class = RoleForm
    required_action = "members.manage"
    post_action = "members.manage"
    section = "members"

    def form_valid(self, form):
        try:
            role = services.do_create_role(self.workspace, actor=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Role {role.name} created.")
        return redirect("studio:role_list", self.workspace.name)


class RoleEditView(WorkspaceMixin, FormView):
    template_name = "studio/role_form.html"
    form_class = RoleForm
    required_action = "members.manage"
    post_action = "members.manage"
    section = "members"

    def get_role(self) -> Role:
        return self.get_object(Role, slug=self.kwargs["slug"])

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["slug"].disabled = True
        return form

    def get_initial(self):
        role = self.get_role()
        return {"name": role.name, "slug": role.slug, "description": role.description, "actions": role.sorted_actions()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"role": self.get_role()}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            role = services.do_update_role(
                self.get_role(),
                actor=self.request.user,
                name=data["name"],
                description=data["description"],
                actions=data["actions"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Role {role.name} saved.")
        return redirect("studio:role_list", self.workspace.name)


class RoleDeleteView(WorkspaceMixin, View):
    post_action = "members.manage"
    required_action = "members.manage"

    def post(self, request, workspace, slug):
        role = self.get_object(Role, slug=slug)
        try:
            services.do_delete_role(role, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Role {role.name} deleted.")
        return redirect("studio:role_list", self.workspace.name)
