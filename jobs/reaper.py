"""The reaper: finishes what dead workers left behind (silent nodes, jobs whose runner stopped
heart-beating, builds whose worker vanished).

It runs in a process of its own (`manage.py studio_reaper`, in the Procfile and docker-compose),
not as a Celery task: when every worker is dead there is nobody left to run a task, and that is
exactly when a Running job must turn Failed "node lost".
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

from compute.services import reap_nodes
from environments.tasks import reap_stale_builds
from jobs.services import reap_stalled_jobs

logger = logging.getLogger(__name__)


def reap_once() -> dict[str, int]:
    """One round of every reaper; each runs even if another failed."""
    counts = {}
    for name, reap in (
        ("nodes", lambda: len(reap_nodes())),
        ("jobs", reap_stalled_jobs),
        ("builds", reap_stale_builds),
    ):
        try:
            counts[name] = reap()
        except Exception:
            # The database may be restarting; the next round tries again.
            logger.exception("reaping %s failed", name)
            close_old_connections()
    return counts


def interval_seconds() -> float:
    """Often enough that a lost job is failed well within twice its threshold."""
    return float(
        min(
            settings.STUDIO_REAPER_INTERVAL_SECONDS,
            max(1, settings.STUDIO_JOB_LOST_AFTER_SECONDS // 2),
            max(1, settings.STUDIO_NODE_UNREACHABLE_SECONDS // 2),
        )
    )


def run_forever(stop: threading.Event, every: float | None = None) -> None:
    every = every or interval_seconds()
    logger.info("reaper running every %.0f s", every)
    while not stop.is_set():
        counts = reap_once()
        if any(counts.values()):
            logger.info("reaped %s", counts)
        close_old_connections()
        stop.wait(every)
