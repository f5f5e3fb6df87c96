"""Workspaces, members, roles, activity and personal access tokens."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from studio.permissions import ACTIONS, BUILTIN_ROLES
from studio.querysets import WorkspaceQuerySet, WorkspaceScopedQuerySet

NAME_RULE = "3–33 characters: letters, digits, '-' or '_', starting with a letter or digit"
name_validator = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,32}\Z", f"Use {NAME_RULE}.")
slug_validator = RegexValidator(r"^[a-z0-9][a-z0-9_]{1,49}\Z", "Use 2–50 lowercase letters, digits or '_'.")


class Workspace(models.Model):
    """The top-level container: every asset, member and event belongs to one workspace."""

    name = models.CharField(max_length=33, unique=True, validators=[name_validator])
    description = models.TextField(blank=True, max_length=2000)
    tags = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("studio:workspace_home", args=[self.name])


class Role(models.Model):
    """A named set of actions. Built-in roles are global (workspace is null) and defined in
    code (permissions.BUILTIN_ROLES); custom roles belong to one workspace."""

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="custom_roles"
    )
    slug = models.CharField(max_length=50, validators=[slug_validator])
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    builtin = models.BooleanField(default=False)

    class Meta:
        ordering = ["-builtin", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="role_unique_slug_per_workspace"),
            models.UniqueConstraint(
                fields=["slug"], condition=models.Q(workspace__isnull=True), name="role_unique_builtin_slug"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def action_set(self) -> frozenset[str]:
        if self.builtin:
            return BUILTIN_ROLES[self.slug][2]
        if "permissions" in getattr(self, "_prefetched_objects_cache", {}):
            return frozenset(p.action for p in self.permissions.all())
        return frozenset(self.permissions.values_list("action", flat=True))

    def sorted_actions(self) -> list[str]:
        return [a for a in ACTIONS if a in self.action_set]


def action_choices() -> list[tuple[str, str]]:
    """The actions as field choices; a callable, so adding an action needs no migration."""
    return [(a, a) for a in ACTIONS]


class RolePermission(models.Model):
    """One action granted by a role; a table (not a JSON list) so querysets can join on it."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="permissions")
    action = models.CharField(max_length=50, choices=action_choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["role", "action"], name="rolepermission_unique")]


class Membership(models.Model):
    """A user's membership of a workspace, with exactly one role."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"


class ActivityEvent(models.Model):
    """Who did what and when in a workspace. `verb` is dotted (`member.added`); `target` is the
    name of the thing acted on; `data` holds details (never secrets)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=60, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="activity_ws_time")]

    def __str__(self) -> str:
        return f"{self.verb} {self.target}"

    @property
    def category(self) -> str:
        return self.verb.split(".", 1)[0]

    @property
    def message(self) -> str:
        from studio.activity import describe

        return describe(self)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class AccessTokenQuerySet(models.QuerySet):
    def active(self) -> AccessTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class AccessToken(models.Model):
    """A personal access token for the REST API and the CLI. Only its sha256 is stored; the
    token itself is shown once, when it is created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class LogChunk(models.Model):
    """One ordered piece of a log stream (an environment build log, a job's std_log.txt...).

    Logs are written as they arrive, in chunks, so a reader can tail them with a character offset
    and a crash loses at most the chunk being collected. `stream` names the log, e.g.
    `build/42` or `job/<workspace-id>/<job-name>/user_logs/std_log.txt`.
    """

    stream = models.CharField(max_length=300)
    seq = models.PositiveIntegerField()
    start = models.BigIntegerField(help_text="Offset (in characters) of this chunk in the whole log")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["stream", "seq"]
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="logchunk_unique_seq")]
        indexes = [models.Index(fields=["stream", "start"], name="logchunk_stream_start")]
