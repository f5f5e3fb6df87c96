"""The node agent: what turns any Celery worker consuming a compute queue into a Studio node.

When a worker is ready (Celery's `worker_ready` signal), the agent registers one Node per compute
queue the worker consumes, then heart-beats from a background thread every
STUDIO_NODE_HEARTBEAT_SECONDS with the running task count and, every minute, the capability report
(CPUs, memory, GPUs, backends, Pythons). The answer to each heartbeat steers the worker:

- pause / resume: stop or start consuming the queue (its instance was stopped / started); the
  change runs on the worker's own event loop (`consumer.call_soon`), never from this thread;
- drain (the "Drain" button, or the target was deleted): the worker gets SIGTERM, i.e. Celery's
  warm shutdown: it stops taking tasks, lets running ones finish, and exits.

On SIGTERM the node reports Draining at once; when the worker has shut down it is marked Stopped.
This works the same under `manage.py studio_worker` and a plain `celery -A studio worker -Q ...`,
because both are Celery workers of the same app.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from typing import Any

from celery import signals
from celery.worker import state
from django.conf import settings
from django.db import close_old_connections, connection
from django.dispatch import Signal

from compute import local_scaler
from compute.capabilities import host_report
from compute.models import LOCAL_QUEUE
from compute.services import (
    Directive,
    NodeRefused,
    do_record_heartbeat,
    do_register_node,
    mark_node_stopped,
    target_for_queue,
)
from compute.signals import node_agent_started, node_agent_stopping

logger = logging.getLogger("compute.node")

REPORT_EVERY = 12  # heartbeats between two full capability reports (about a minute)

_agent: NodeAgent | None = None


def is_compute_queue(name: str) -> bool:
    return name == LOCAL_QUEUE or (name.startswith("compute.") and name.count(".") == 2)


def current_agent() -> NodeAgent | None:
    """The agent of this worker process (None outside a node)."""
    return _agent


class NodeAgent:
    """One per worker process; per-run state lives here, never on a task or a module global
    other than `_agent`."""

    def __init__(self, consumer: Any, queues: list[str], worker_name: str, capacity: int):
        self.consumer = consumer
        self.queues = list(queues)
        self.worker_name = worker_name
        self.capacity = max(1, int(capacity or 1))
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.interval = float(settings.STUDIO_NODE_HEARTBEAT_SECONDS)
        self.node_ids: dict[str, int] = {}
        self.paused: set[str] = set()
        self.draining = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._beats = 0
        self._stopped = False

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Register the nodes (in the worker's main thread, before it takes a task) and start
        heart-beating."""
        for queue in self.queues:
            try:
                report = host_report(target_for_queue(queue))
                node = do_register_node(
                    queue=queue,
                    worker_name=self.worker_name,
                    hostname=self.hostname,
                    pid=self.pid,
                    capacity=self.capacity,
                    report=report,
                )
            except NodeRefused as exc:
                logger.error("this worker may not serve %s: %s", queue, exc)
                self.consumer.cancel_task_queue(queue)
                if not self.consumer.app.amqp.queues.consume_from:  # nothing else to do here
                    self.request_shutdown(f"refused: {exc}")
                continue
            self.node_ids[queue] = node.pk
            if node.state == "Paused":
                self.consumer.cancel_task_queue(queue)
                self.paused.add(queue)
            logger.info("node %s registered for %s (%s)", self.worker_name, queue, node.state)
        connection.close()
        self._thread = threading.Thread(target=self._run, name="studio-node-heartbeat", daemon=True)
        self._thread.start()
        if self.node_ids:
            self._announce(node_agent_started)

    def on_shutting_down(self) -> None:
        """Celery's warm shutdown began (SIGTERM, Ctrl-C, or our own drain). Runs inside a signal
        handler: only flags and wakes the heartbeat thread."""
        self.draining = True
        self._wake.set()

    def stop(self) -> None:
        """The worker has shut down: stop heart-beating and mark the nodes Stopped."""
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 10)
        if self.node_ids:
            self._announce(node_agent_stopping)

        for node_id in self.node_ids.values():
            try:
                close_old_connections()
                mark_node_stopped(node_id)
            except Exception:
                logger.exception("could not mark node %s stopped", node_id)
        connection.close()

    def _announce(self, signal_: Signal) -> None:
        for receiver, outcome in signal_.send_robust(sender=NodeAgent, node_ids=dict(self.node_ids)):
            if isinstance(outcome, Exception):
                logger.error("node %s: %s failed: %r", self.worker_name, receiver, outcome)
        connection.close()

    def request_shutdown(self, reason: str) -> None:
        """Warm shutdown of this worker, exactly as if an operator sent SIGTERM."""
        if not self.draining:
            logger.warning("node %s draining: %s", self.worker_name, reason)
        self.draining = True
        os.kill(os.getpid(), signal.SIGTERM)

    # -- heartbeat --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(self.interval)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    self.beat()
                except Exception:  # the database may be away for a moment: say so, keep beating
                    logger.exception("heartbeat of %s failed; retrying", self.worker_name)
        finally:
            connection.close()

    def beat(self) -> None:
        close_old_connections()
        self._beats += 1
        running = running_tasks()
        for queue, node_id in list(self.node_ids.items()):
            report = None
            if self._beats % REPORT_EVERY == 0:
                try:
                    report = host_report(target_for_queue(queue))
                except Exception:
                    report = None
            directive = do_record_heartbeat(
                node_id,
                running=len(running),
                running_tasks=running,
                consuming=queue not in self.paused,
                draining=self.draining,
                report=report,
            )
            if directive == Directive.PAUSE:
                logger.info("node %s pauses %s: its instance was stopped", self.worker_name, queue)
                self.consumer.call_soon(self.consumer.cancel_task_queue, queue)
                self.paused.add(queue)
            elif directive == Directive.RESUME:
                logger.info("node %s resumes %s: its instance was started", self.worker_name, queue)
                self.consumer.call_soon(self.consumer.add_task_queue, queue)
                self.paused.discard(queue)
            elif directive == Directive.DRAIN:
                self.request_shutdown("drain requested")
            elif directive == Directive.GONE:
                self.node_ids.pop(queue, None)
                self.request_shutdown(f"the compute target of {queue} was deleted")


def running_tasks() -> list[dict[str, str]]:
    """The tasks this worker is executing: [{"id", "name"}] (read from Celery's worker state,
    which the main thread changes while we read: retry on a concurrent change)."""
    for _ in range(5):
        try:
            return [{"id": r.id, "name": r.name} for r in list(state.active_requests)]
        except RuntimeError:
            time.sleep(0.01)
    return []


# -- Celery signal wiring (connected in ComputeConfig.ready) --------------------------------


def _on_worker_ready(sender=None, **kwargs) -> None:
    global _agent
    consumer = sender
    queues = [q for q in consumer.app.amqp.queues.consume_from if is_compute_queue(q)]
    if not queues or _agent is not None:
        return
    capacity = getattr(consumer.controller, "concurrency", None) or 1
    _agent = NodeAgent(consumer, queues, consumer.hostname, capacity)
    try:
        _agent.start()
    except Exception:
        logger.exception("could not register this worker as a node; shutting down")
        _agent.request_shutdown("registration failed")
    if LOCAL_QUEUE in queues:
        local_scaler.start_in_this_worker()


def _on_worker_shutting_down(**kwargs) -> None:
    if _agent is not None:
        _agent.on_shutting_down()


def _on_worker_shutdown(**kwargs) -> None:
    local_scaler.stop_in_this_worker()  # the nodes it started go with it
    if _agent is not None:
        _agent.stop()


def connect_worker_signals() -> None:
    signals.worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="compute.node.ready")
    signals.worker_shutting_down.connect(_on_worker_shutting_down, weak=False, dispatch_uid="compute.node.draining")
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False, dispatch_uid="compute.node.shutdown")
