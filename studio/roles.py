"""Built-in role rows, kept in step with permissions.BUILTIN_ROLES (the code is the truth)."""

from __future__ import annotations

from studio.permissions import BUILTIN_ROLES


def sync_builtin_roles(using: str = "default") -> None:
    """Create or update the global rows of the built-in roles and their permissions."""
    from studio.models import Role, RolePermission

    for slug, (name, description, actions) in BUILTIN_ROLES.items():
        role, _ = Role.objects.using(using).update_or_create(
            workspace=None,
            slug=slug,
            defaults={"name": name, "description": description, "builtin": True},
        )
        have = set(RolePermission.objects.using(using).filter(role=role).values_list("action", flat=True))
        RolePermission.objects.using(using).filter(role=role).exclude(action__in=actions).delete()
        RolePermission.objects.using(using).bulk_create(
            [RolePermission(role=role, action=a) for a in sorted(actions - have)]
        )


def builtin_role(slug: str):
    from studio.models import Role

    return Role.objects.get(workspace=None, slug=slug)


def roles_for_workspace(workspace):
    """Built-in roles first, then the workspace's custom roles."""
    from django.db.models import Q

    from studio.models import Role

    return Role.objects.filter(Q(workspace=None) | Q(workspace=workspace)).prefetch_related("permissions")
