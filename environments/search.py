"""What the top-bar search finds among environments, curated ones included."""

from __future__ import annotations

from django.urls import reverse

from environments.models import Environment
from studio.search import Hit, matching


def environments(user, workspace, query: str, limit: int) -> list[Hit]:
    rows = matching(Environment.objects.for_user(user).visible_in(workspace), query)
    return [
        Hit(
            env.name,
            reverse("environments:environment_detail", args=[workspace.name, env.name]),
            "curated" if env.curated else "environment",
        )
        for env in rows[:limit]
    ]
