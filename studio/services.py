"""State changes of workspaces, members, roles and tokens: one function each.

Each is atomic and records its activity event; pages, the API and commands call these and
never change these models themselves.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from studio import activity, deletion
from studio.actor import Actor
from studio.errors import Conflict
from studio.models import AccessToken, Membership, Role, RolePermission, Workspace, hash_token
from studio.permissions import ACTIONS, BUILTIN_ROLES, OWNER
from studio.roles import builtin_role
from studio.tags import clean_tags

User = get_user_model()

logger = logging.getLogger(__name__)

# Every app that gives a new workspace something (built-in datastores, the local compute
# target...) appends a callable(workspace, actor) here.
WORKSPACE_CREATED_HOOKS: list[Callable[[Workspace, Actor], object]] = []


@transaction.atomic
def do_create_workspace(*, name: str, actor: Actor, description: str = "", tags: dict | None = None) -> Workspace:
    """Create a workspace with `actor` as its Owner."""
    if Workspace.objects.filter(name__iexact=name).exists():
        raise Conflict({"name": [f"A workspace named {name!r} already exists."]})
    workspace = Workspace(name=name, description=description, tags=clean_tags(tags), created_by=actor)
    workspace.full_clean()
    try:
        with transaction.atomic():
            workspace.save()
    except IntegrityError:
        raise Conflict({"name": [f"A workspace named {name!r} already exists."]}) from None
    Membership.objects.create(workspace=workspace, user=actor, role=builtin_role(OWNER), added_by=actor)
    activity.record(workspace, actor, "workspace.created", workspace.name)
    for hook in WORKSPACE_CREATED_HOOKS:
        hook(workspace, actor)
    return workspace


@transaction.atomic
def do_update_workspace(
    workspace: Workspace, *, actor: Actor, description: str | None = None, tags: dict | None = None
) -> Workspace:
    """Change description and/or tags. The name is the workspace's address and stays."""
    changed = []
    if description is not None and description != workspace.description:
        workspace.description = description
        changed.append("description")
    if tags is not None:
        cleaned = clean_tags(tags)
        if cleaned != workspace.tags:
            workspace.tags = cleaned
            changed.append("tags")
    if changed:
        workspace.full_clean()
        workspace.save()
        activity.record(workspace, actor, "workspace.updated", workspace.name, fields=changed)
    return workspace


def do_delete_workspace(workspace: Workspace, *, actor: Actor, confirm: str | None = None) -> dict[str, int]:
    """Delete the workspace and everything in it: its jobs with their logs and outputs, code
    snapshots, environments and the builds no other workspace shares, data, datastores and
    compute (each app's part, studio.deletion). A workspace holding anything members made is
    deleted only when `confirm` is its name; otherwise Conflict says what would go.
    Returns what went."""
    found = deletion.inventory(workspace)
    if found and confirm != workspace.name:
        raise Conflict(
            {
                "confirm": [
                    f"{workspace.name} holds {deletion.describe(found)}; they are deleted with it. "
                    f"Confirm with its name (confirm={workspace.name})."
                ]
            }
        )
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
        cleanups = deletion.purge(workspace)
        name = workspace.name
        workspace.delete()
        for cleanup in cleanups:
            transaction.on_commit(cleanup)
    # The workspace's own activity log goes with it; the server log keeps the fact.
    logger.warning("workspace %s deleted by %s with %s", name, getattr(actor, "username", actor), found or "nothing")
    return found


def resolve_role(workspace: Workspace, slug: str) -> Role:
    """A built-in role or one of this workspace's custom roles, by slug."""
    role = (
        Role.objects.filter(slug=slug, workspace=None).first()
        or Role.objects.filter(slug=slug, workspace=workspace).first()
    )
    if role is None:
        known = ", ".join(list(BUILTIN_ROLES) + list(workspace.custom_roles.values_list("slug", flat=True)))
        raise Conflict({"role": [f"Unknown role {slug!r}. Choose one of: {known}."]})
    return role


@transaction.atomic
def do_add_member(workspace: Workspace, *, user: Actor, role: Role, actor: Actor) -> Membership:
    if role.workspace_id not in (None, workspace.pk):
        raise Conflict({"role": ["That role belongs to another workspace."]})
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise Conflict({"username": [f"{user.get_username()} is already a member of {workspace.name}."]})
    membership = Membership.objects.create(workspace=workspace, user=user, role=role, added_by=actor)
    activity.record(workspace, actor, "member.added", user.get_username(), role=role.name)
    return membership


@transaction.atomic
def do_create_user(*, username: str, password: str, email: str = "", actor: Actor | None = None) -> Actor:
    """Create a user account (staff via the API, or an Owner inviting someone new)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    username = (username or "").strip()
    if not username:
        raise _invalid({"username": ["A username is required."]})
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict({"username": [f"A user named {username!r} already exists."]})
    candidate = User(username=username, email=email)
    try:
        candidate.full_clean(exclude=["password"])
        validate_password(password or "", user=candidate)
    except ValidationError as exc:
        raise _invalid(exc.message_dict if hasattr(exc, "error_dict") else {"password": exc.messages}) from None
    return User.objects.create_user(username=username, password=password, email=email)


def _invalid(errors: dict[str, list[str]]) -> Exception:
    from django.core.exceptions import ValidationError

    return ValidationError(errors)


@transaction.atomic
def do_change_member_role(membership: Membership, *, role: Role, actor: Actor) -> Membership:
    membership = Membership.objects.select_for_update().select_related("role", "user").get(pk=membership.pk)
    if role.workspace_id not in (None, membership.workspace_id):
        raise Conflict({"role": ["That role belongs to another workspace."]})
    old = membership.role
    if old.pk == role.pk:
        return membership
    if old.builtin and old.slug == OWNER and _owner_count_locked(membership.workspace) <= 1:
        raise Conflict({"role": ["The last Owner cannot be demoted. Make someone else an Owner first."]})
    membership.role = role
    membership.save(update_fields=["role"])
    activity.record(
        membership.workspace,
        actor,
        "member.role_changed",
        membership.user.get_username(),
        old_role=old.name,
        role=role.name,
    )
    return membership


def _owner_count_locked(workspace: Workspace) -> int:
    # Lock the workspace's Owner rows so two concurrent demotions cannot both pass the check.
    owners = Membership.objects.select_for_update().filter(workspace=workspace, role__workspace=None, role__slug=OWNER)
    return len(list(owners.values_list("pk", flat=True)))


@transaction.atomic
def do_remove_member(membership: Membership, *, actor: Actor) -> None:
    membership = (
        Membership.objects.select_for_update().select_related("role", "user", "workspace").get(pk=membership.pk)
    )
    if membership.role.builtin and membership.role.slug == OWNER and _owner_count_locked(membership.workspace) <= 1:
        raise Conflict({"username": ["The last Owner cannot be removed. Make someone else an Owner first."]})
    membership.delete()
    activity.record(membership.workspace, actor, "member.removed", membership.user.get_username())


def _clean_actions(actions: Iterable[str]) -> list[str]:
    unknown = sorted(set(actions) - set(ACTIONS))
    if unknown:
        raise _invalid({"actions": [f"Unknown action(s): {', '.join(unknown)}."]})
    if not actions:
        raise _invalid({"actions": ["Tick at least one action."]})
    chosen = set(actions) | {"workspace.view"}
    return [a for a in ACTIONS if a in chosen]


@transaction.atomic
def do_create_role(
    workspace: Workspace, *, slug: str, name: str, actions: Iterable[str], description: str = "", actor: Actor
) -> Role:
    """A custom role: a named set of actions. Viewing the workspace is always included."""
    if slug in BUILTIN_ROLES or Role.objects.filter(workspace=workspace, slug=slug).exists():
        raise Conflict({"slug": [f"A role with the slug {slug!r} already exists."]})
    role = Role(workspace=workspace, slug=slug, name=name, description=description)
    role.full_clean(validate_constraints=False)
    chosen = _clean_actions(actions)
    role.save()
    RolePermission.objects.bulk_create([RolePermission(role=role, action=a) for a in chosen])
    activity.record(workspace, actor, "role.created", name, actions=chosen)
    return role


@transaction.atomic
def do_update_role(
    role: Role,
    *,
    actor: Actor,
    name: str | None = None,
    description: str | None = None,
    actions: Iterable[str] | None = None,
) -> Role:
    if role.builtin or role.workspace is None:
        raise Conflict({"detail": ["Built-in roles cannot be changed."]})
    if name is not None:
        role.name = name
    if description is not None:
        role.description = description
    role.full_clean(validate_constraints=False)
    role.save()
    if actions is not None:
        chosen = _clean_actions(actions)
        RolePermission.objects.filter(role=role).delete()
        RolePermission.objects.bulk_create([RolePermission(role=role, action=a) for a in chosen])
    activity.record(role.workspace, actor, "role.updated", role.name)
    return role


@transaction.atomic
def do_delete_role(role: Role, *, actor: Actor) -> None:
    if role.builtin or role.workspace is None:
        raise Conflict({"detail": ["Built-in roles cannot be deleted."]})
    in_use = role.memberships.count()
    if in_use:
        raise Conflict(
            {"detail": [f"{in_use} member(s) still have the role {role.name}. Give them another role first."]}
        )
    workspace, name = role.workspace, role.name
    role.delete()
    activity.record(workspace, actor, "role.deleted", name)


def do_create_token(*, user: Actor, name: str, expires_at: datetime | None = None) -> tuple[AccessToken, str]:
    """Returns the token row and the raw token, which is never retrievable again."""
    name = (name or "").strip()
    if not name:
        raise _invalid({"name": ["Give the token a name so you can recognise it later."]})
    if len(name) > 100:
        raise _invalid({"name": ["Keep the name under 100 characters."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise _invalid({"expires_at": ["The expiry must be in the future."]})
    raw = settings.STUDIO_TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = AccessToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(settings.STUDIO_TOKEN_PREFIX) + 6],
        key_hash=hash_token(raw),
        expires_at=expires_at,
    )
    return token, raw


def do_revoke_token(token: AccessToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
