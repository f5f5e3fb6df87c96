"""Actions and built-in roles: the one place that says who may do what in a workspace.

Every page, htmx partial, REST endpoint and CLI call asks `can(user, workspace, action)` or
filters with `Model.objects.for_user(user, action)`; nothing else decides access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from studio.actor import Actor
    from studio.models import Workspace

VIEW = "workspace.view"

# action -> what it allows, shown when an Owner defines a custom role.
ACTIONS: dict[str, str] = {
    "workspace.view": "View the workspace and everything in it, read job logs",
    "workspace.manage": "Change workspace settings",
    "workspace.delete": "Delete the workspace",
    "members.manage": "Add, change and remove members; define custom roles",
    "environments.write": "Create and archive environments, start builds",
    "compute.manage": "Create, edit, delete, start and stop compute targets",
    "jobs.submit": "Submit jobs",
    "jobs.cancel": "Cancel jobs",
    "jobs.delete": "Delete jobs",
    "datastores.write": "Register, edit and delete datastores (credentials)",
    "data.write": "Create data assets and upload data",
    "models.write": "Register, edit, archive and delete models",
    "endpoints.write": "Create, change and delete online endpoints and deployments; read their keys",
}

OWNER = "owner"


def describe(action: str) -> str:
    """An action in words, to finish "does not allow you to …" (never the raw `jobs.submit`)."""
    text = ACTIONS.get(action, action)
    return text[:1].lower() + text[1:]


def denied_message(workspace: Workspace, action: str) -> str:
    """What a 403 says, on a page and in the API."""
    return (
        f"Your role in workspace '{workspace.name}' does not allow you to {describe(action)}. "
        "Ask an Owner of the workspace if you need to."
    )


# slug -> (name, description, actions). Order is the order shown in role pickers.
BUILTIN_ROLES: dict[str, tuple[str, str, frozenset[str]]] = {
    "owner": ("Owner", "Everything, including members and deleting the workspace", frozenset(ACTIONS)),
    "contributor": (
        "Contributor",
        "Everything except managing members and deleting the workspace",
        frozenset(ACTIONS) - {"members.manage", "workspace.delete"},
    ),
    "reader": ("Reader", "View only", frozenset({VIEW})),
    "data_scientist": (
        "Data Scientist",
        "Environments, jobs, data assets, models and endpoints; not compute management, datastores or settings",
        frozenset(
            {VIEW, "environments.write", "jobs.submit", "jobs.cancel", "data.write", "models.write", "endpoints.write"}
        ),
    ),
    "compute_operator": (
        "Compute Operator",
        "Manage compute targets, view everything else",
        frozenset({VIEW, "compute.manage"}),
    ),
}


def can(user: Actor | AnonymousUser, workspace: Workspace, action: str) -> bool:
    """True when `user` holds `action` in `workspace` through their membership's role."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return action in actions_for(user, workspace)


def actions_for(user: Actor | AnonymousUser, workspace: Workspace) -> frozenset[str]:
    """The actions `user` holds in `workspace`; cached on the workspace object for the request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cache: dict[int, frozenset[str]] = workspace.__dict__.setdefault("_actions_cache", {})
    if user.pk not in cache:
        from studio.models import Membership

        membership = Membership.objects.filter(workspace=workspace, user=user).select_related("role").first()
        cache[user.pk] = membership.role.action_set if membership else frozenset()
    return cache[user.pk]


def operate_denied_message(target) -> str:
    """What a 403 says when someone may not start or stop `target`."""
    return (
        f"Your role in workspace '{target.workspace.name}' does not allow you to {describe('compute.manage')}, "
        f"and {target.name} is not a compute instance assigned to you."
    )


def can_operate_compute(user: Actor | AnonymousUser, target) -> bool:
    """Start or stop a compute target: anyone with compute.manage, or, for a compute instance, the
    member it is assigned to (who may also be a Data Scientist)."""
    workspace = target.workspace
    if can(user, workspace, "compute.manage"):
        return True
    return (
        target.type == "instance"
        and user.is_authenticated
        and target.assigned_to_id == user.pk
        and can(user, workspace, VIEW)
    )


def is_studio_admin(user: Actor | AnonymousUser) -> bool:
    """Studio's administrators (staff or superusers): they own what is shared by every workspace,
    such as the machine-wide `local` worker; no workspace role grants that."""
    return bool(user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def can_manage_machine(user: Actor | AnonymousUser, target) -> bool:
    """Drain the nodes of `target`, send it test tasks, change its resource limits: compute.manage
    on the workspace's own targets; only a Studio administrator on the shared `local` target, whose
    worker serves every workspace of the server."""
    if target.type == "local":
        return is_studio_admin(user) and can(user, target.workspace, VIEW)
    return can(user, target.workspace, "compute.manage")


def machine_denied_message(target) -> str:
    if target.type == "local":
        return (
            f"{target.name} is the shared worker of every workspace on this Studio server: only a Studio "
            "administrator (staff) may drain its nodes, send it test tasks or change its resource limits."
        )
    return f"Your role in workspace '{target.workspace.name}' does not allow compute.manage."
