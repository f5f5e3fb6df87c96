"""The workspace activity log: recording events and saying them in words."""

from __future__ import annotations

from typing import Any

from studio.models import ActivityEvent, Workspace

# verb -> sentence; {target} and keys of `data` are filled in. Later apps add their verbs.
MESSAGES: dict[str, str] = {
    "workspace.created": "created the workspace",
    "workspace.updated": "changed workspace settings ({fields})",
    "member.added": "added {target} as {role}",
    "member.role_changed": "changed the role of {target} from {old_role} to {role}",
    "member.removed": "removed {target}",
    "role.created": "created the custom role {target}",
    "role.updated": "changed the custom role {target}",
    "role.deleted": "deleted the custom role {target}",
}


def register_messages(messages: dict[str, str]) -> None:
    """Apps call this at import time to describe their own verbs."""
    MESSAGES.update(messages)


def record(workspace: Workspace, actor, verb: str, target: str = "", **data: Any) -> ActivityEvent:
    """Write one activity event. Callers pass names and labels only, never secrets."""
    return ActivityEvent.objects.create(
        workspace=workspace,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        target=str(target)[:200],
        data=data,
    )


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def describe(event: ActivityEvent) -> str:
    template = MESSAGES.get(event.verb, event.verb.replace(".", " ") + " {target}")
    values = _Missing({k: (", ".join(v) if isinstance(v, list) else v) for k, v in event.data.items()})
    values["target"] = event.target
    return template.format_map(values)
