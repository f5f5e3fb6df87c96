"""The deployment instances' side of a node: a thread in every node's worker process (started
when its node agent has registered, `compute.signals.node_agent_started`) that every
STUDIO_ENDPOINTS_RECONCILE_SECONDS places the instances of the deployments on its targets
(`placement.place_all`) and keeps the ones assigned to its own nodes (`instances.reconcile`).

Every node of a target runs it, not one worker picked by a queue: each keeps what is assigned to
it, and any of them moves a lost node's instances. The instance processes are children of this
thread (the sandbox's --die-with-parent): when the worker exits they stop, and its nodes' rows
are handed back to placement. Instance containers (a docker-backend target) are stopped by that
same hand-back, and those a dead worker left are removed by its successor's first round
(`runtimes.ContainerRuntime.sweep`).
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from endpoints import instances, placement

log = logging.getLogger(__name__)


class Keeper:
    def __init__(self, node_ids: dict[str, int]):
        self.queues = set(node_ids)
        self.node_ids = sorted(node_ids.values())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="studio-endpoint-instances", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def round(self) -> None:
        close_old_connections()
        placement.place_all(self.queues)
        instances.reconcile(self.node_ids)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.round()
                except Exception:  # the database may be away for a moment: say so, keep going
                    log.exception("keeping the deployment instances of nodes %s failed; retrying", self.node_ids)
                self._stop.wait(settings.STUDIO_ENDPOINTS_RECONCILE_SECONDS)
            # In this thread: the instances are its children, and the rows go back to placement.
            instances.stop_all(self.node_ids)
        finally:
            connection.close()


_keeper: Keeper | None = None


def on_node_agent_started(sender=None, node_ids: dict[str, int] | None = None, **kwargs) -> None:
    global _keeper
    if _keeper is None and node_ids:
        _keeper = Keeper(node_ids)
        _keeper.start()


def on_node_agent_stopping(sender=None, **kwargs) -> None:
    global _keeper
    if _keeper is not None:
        _keeper.stop()
        _keeper = None
