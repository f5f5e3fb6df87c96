"""What deleting a workspace takes with it.

The studio app knows no jobs, environments or data, so each app that keeps things in a workspace
registers a `WorkspacePart` here in its AppConfig.ready(): what it would remove (for the
confirmation page and the API's 409), how to remove its rows in the right order inside the
deletion's transaction, and which files to remove once that transaction has committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from studio.models import Workspace

Cleanup = Callable[[], None]


@dataclass(frozen=True)
class WorkspacePart:
    """`inventory(workspace)` -> {"3 jobs": 3, ...} of things members made (counted ones only);
    `purge(workspace)` deletes rows that the workspace's cascade cannot (protected ones) and
    returns the file clean-ups to run after commit. Lower `order` purges first."""

    name: str
    inventory: Callable[[Workspace], dict[str, int]]
    purge: Callable[[Workspace], list[Cleanup]] = field(default=lambda workspace: [])
    order: int = 100


PARTS: dict[str, WorkspacePart] = {}


def register(part: WorkspacePart) -> None:
    PARTS[part.name] = part


def inventory(workspace: Workspace) -> dict[str, int]:
    """What members made in the workspace, by label; nothing with a zero count."""
    found: dict[str, int] = {}
    for part in sorted(PARTS.values(), key=lambda p: p.order):
        found |= {label: count for label, count in part.inventory(workspace).items() if count}
    return found


def purge(workspace: Workspace) -> list[Cleanup]:
    cleanups: list[Cleanup] = []
    for part in sorted(PARTS.values(), key=lambda p: p.order):
        cleanups += part.purge(workspace)
    return cleanups


def lines(found: dict[str, int]) -> list[str]:
    """["3 jobs", "1 environment", ...]: labels are plural nouns first, said singular for one."""
    out = []
    for label, count in found.items():
        noun, _, rest = label.partition(" (")
        words = noun.split(" ")
        if count == 1 and words[-1].endswith("s"):
            words[-1] = words[-1][:-1]
        out.append(f"{count} {' '.join(words)}" + (f" ({rest}" if rest else ""))
    return out


def describe(found: dict[str, int]) -> str:
    """Say what `found` holds: 3 jobs, 1 environment and 2 data assets."""
    words = lines(found)
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
