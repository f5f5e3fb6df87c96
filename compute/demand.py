"""Demand on compute targets: how many jobs wait for and run on each.

Jobs sit above compute in the layers, so compute does not read the jobs' table itself: the jobs
app registers the counter in its AppConfig.ready() (`register_counter`). Without one (compute used
on its own), every target has no demand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compute.models import ComputeTarget


@dataclass(frozen=True)
class JobCounts:
    queued: int = 0
    running: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.running


# targets -> {target pk: JobCounts} for the targets that have unfinished jobs, in one query.
Counter = Callable[[list["ComputeTarget"]], dict[int, JobCounts]]
_counter: Counter | None = None


def register_counter(counter: Counter) -> None:
    """Called by the jobs app's AppConfig.ready(): the one function that counts unfinished jobs."""
    global _counter
    _counter = counter


def counts_for(targets: Iterable[ComputeTarget]) -> dict[int, JobCounts]:
    """target pk -> JobCounts, in one query for all `targets`."""
    targets = list(targets)
    result = {t.pk: JobCounts() for t in targets}
    if _counter is not None and targets:
        result.update(_counter(targets))
    return result


def counts(target: ComputeTarget) -> JobCounts:
    return counts_for([target])[target.pk]
