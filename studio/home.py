"""The workspace home page's summary: a few counts per section and the latest jobs.

The studio app sits below the others, so it reads none of their tables: each app registers the
cards it contributes (`register_cards`, in its AppConfig.ready()), and the jobs app the latest
jobs (`register_recent_jobs`). One query per card, whatever the workspace's size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from studio.models import Workspace


@dataclass
class Card:
    label: str
    value: int
    url: str
    icon: str
    detail: str = ""


CardSource = Callable[[Workspace], list[Card]]
_card_sources: dict[str, tuple[int, CardSource]] = {}
_recent_jobs: Callable[[Workspace, int], list] | None = None


def register_cards(key: str, source: CardSource, *, order: int) -> None:
    """An app's cards on the home page, placed by `order` (lowest first); `key` keeps a second
    registration of the same app from doubling its cards."""
    _card_sources[key] = (order, source)


def register_recent_jobs(source: Callable[[Workspace, int], list]) -> None:
    global _recent_jobs
    _recent_jobs = source


def summary_cards(workspace: Workspace, member_count: int) -> list[Card]:
    ws = workspace.name
    cards: list[Card] = []
    for _order, source in sorted(_card_sources.values(), key=lambda item: item[0]):
        cards.extend(source(workspace))
    cards.append(
        Card(
            "members" if member_count != 1 else "member",
            member_count,
            reverse("studio:member_list", args=[ws]),
            "users",
        )
    )
    return cards


def recent_jobs(workspace: Workspace, limit: int = 6) -> list:
    return _recent_jobs(workspace, limit) if _recent_jobs is not None else []
