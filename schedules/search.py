"""What the top-bar search finds among schedules."""

from __future__ import annotations

from schedules.models import Schedule
from studio.search import Hit, matching


def schedules(user, workspace, query: str, limit: int) -> list[Hit]:
    rows = matching(Schedule.objects.for_user(user).filter(workspace=workspace), query, ("name", "display_name"))
    return [
        Hit(s.title, s.get_absolute_url(), "Schedule" + ("" if s.enabled else " (paused)"))
        for s in rows.select_related("workspace")[:limit]
    ]
