"""The built-in local scaler: on a single machine, Studio itself starts and stops the nodes of its
clusters and instances as local worker processes (`manage.py studio_worker --compute <ws>/<name>`).

It is the in-process side of the scaler hook (compute.scaling): each round it runs the autoscaler
(which keeps every target's desired node count: one per unfinished job within min/max_instances,
lowered only after idle_time_before_scale_down; 1 for a started instance) and then makes the
processes it owns match that count, counting nodes that other machines run for the same target.
Idle nodes are stopped first, with SIGTERM (Celery's warm shutdown: a running job finishes).

Which process runs it: the worker of the shared local queue (`studio_worker --compute local`, the
`worker` line of `make run`), when STUDIO_LOCAL_SCALER is on and no STUDIO_SCALER_COMMAND is set.
That worker lives as long as Studio does, so the processes it starts are its children: they are
stopped when it shuts down, and the kernel sends them SIGTERM if it dies without a word
(PR_SET_PDEATHSIG), so no node outlives Studio. A lock file under STUDIO_DATA_DIR keeps a second
local worker from scaling the same targets.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection

from compute import scaling
from compute.models import ComputeTarget, ComputeType, Node

logger = logging.getLogger("compute.local_scaler")

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
PR_SET_PDEATHSIG = 1


def enabled() -> bool:
    return settings.STUDIO_LOCAL_SCALER and not settings.STUDIO_SCALER_COMMAND


try:  # looked up once here: between fork and exec the child only makes the call
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: the parent's shutdown still stops its nodes
    _prctl = None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))


class LocalScaler:
    """Owns the worker processes it started, per compute target (by primary key)."""

    def __init__(self, *, interval: float | None = None, env: dict | None = None, pool: str = "prefork"):
        self.interval = interval if interval is not None else float(settings.STUDIO_LOCAL_SCALER_SECONDS)
        self.env = env
        self.pool = pool
        self.hostname = socket.gethostname()
        self.procs: dict[int, list[subprocess.Popen]] = {}
        self.stopping: set[int] = set()  # pids told to stop, still finishing
        self.log_dir = Path(settings.DATA_DIR) / "logs" / "nodes"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_file = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> bool:
        """Start the loop in a thread; False when another process already scales (the lock)."""
        lock_path = Path(settings.DATA_DIR) / "local-scaler.lock"
        self._lock_file = open(lock_path, "w")  # noqa: SIM115 - held for the scaler's life
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            self._lock_file = None
            logger.info("another process runs the local scaler; this one does not")
            return False
        # Processes must be started from this one long-lived thread: PR_SET_PDEATHSIG fires when
        # the thread that forked them ends.
        self._thread = threading.Thread(target=self._run, name="studio-local-scaler", daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout: float = 30) -> None:
        """Stop the loop and every process it started (SIGTERM, then SIGKILL after `timeout`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 30)
        procs = [p for ps in self.procs.values() for p in ps]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.procs.clear()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.round()
                except Exception:  # the database may be away for a moment: say so, try again
                    logger.exception("local scaler round failed; retrying")
                self._stop.wait(self.interval)
        finally:
            connection.close()

    # -- one round ---------------------------------------------------------------------------

    def round(self) -> None:
        close_old_connections()
        scaling.autoscale()
        targets = ComputeTarget.objects.filter(type__in=(ComputeType.CLUSTER, ComputeType.INSTANCE)).select_related(
            "workspace"
        )
        seen = set()
        for target in targets:
            seen.add(target.pk)
            self.reconcile(target)
        for pk in list(self.procs):
            if pk not in seen:  # the target was deleted: its nodes drain by themselves; forget them
                self._reap(pk)
                if not self.procs.get(pk):
                    self.procs.pop(pk, None)

    def alive(self, target: ComputeTarget) -> list[subprocess.Popen]:
        """This scaler's processes for `target` that run and were not told to stop."""
        self._reap(target.pk)
        return [p for p in self.procs.get(target.pk, []) if p.pid not in self.stopping]

    def total(self) -> int:
        """Node processes this scaler runs, for every target (those stopping included)."""
        return sum(1 for procs in self.procs.values() for proc in procs if proc.poll() is None)

    def reconcile(self, target: ComputeTarget) -> None:
        mine = self.alive(target)
        mine_pids = {p.pid for p in mine} | self.stopping
        others = [n for n in target.nodes().responsive() if not (n.hostname == self.hostname and n.pid in mine_pids)]
        have = len(mine) + len(others)
        desired = target.desired_nodes
        capped = False
        if have < desired:
            room = settings.STUDIO_LOCAL_SCALER_MAX_NODES - self.total()
            capped = room < desired - have
            for _ in range(max(0, min(desired - have, room))):
                mine.append(self._spawn(target))
        elif have > desired and mine:
            for proc in self._idle_first(target, mine)[: have - desired]:
                logger.info("local scaler: stopping node pid %s of %s", proc.pid, target.address)
                self.stopping.add(proc.pid)
                proc.send_signal(signal.SIGTERM)
            mine = self.alive(target)
        else:
            return
        status = f"local scaler: {len(mine)} local node process(es) for {desired} desired"
        if others:
            status += f", plus {len(others)} node(s) started elsewhere"
        if capped:
            status += f"; this machine's limit of {settings.STUDIO_LOCAL_SCALER_MAX_NODES} local nodes is reached"
        ComputeTarget.objects.filter(pk=target.pk).update(scaler_status=status[:500])

    def _idle_first(self, target: ComputeTarget, procs: list[subprocess.Popen]) -> list[subprocess.Popen]:
        running = dict(
            Node.objects.filter(
                queue=target.queue_name, hostname=self.hostname, pid__in=[p.pid for p in procs]
            ).values_list("pid", "running")
        )
        # Not yet registered (0) and idle nodes first; the newest first among equals.
        return sorted(procs, key=lambda p: (running.get(p.pid, 0) > 0, -p.pid))

    def _spawn(self, target: ComputeTarget) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(MANAGE), "studio_worker", "--compute", target.address, "--pool", self.pool]
        log_path = self.log_dir / f"{target.workspace.name}.{target.name}.log"
        with open(log_path, "a") as log:
            proc = subprocess.Popen(
                command,
                cwd=MANAGE.parent,
                env=self.env if self.env is not None else os.environ.copy(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches the scaler, which stops them
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, before exec
            )
        logger.info("local scaler: started node pid %s for %s (log %s)", proc.pid, target.address, log_path)
        self.procs.setdefault(target.pk, []).append(proc)
        return proc

    def _reap(self, pk: int) -> None:
        kept = []
        for proc in self.procs.get(pk, []):
            if proc.poll() is None:
                kept.append(proc)
            else:
                self.stopping.discard(proc.pid)
        self.procs[pk] = kept


_scaler: LocalScaler | None = None


def start_in_this_worker() -> None:
    """Called when the local queue's worker is ready (compute.node)."""
    global _scaler
    if _scaler is not None or not enabled():
        return
    scaler = LocalScaler()
    if scaler.start():
        _scaler = scaler
        logger.info("local scaler running (every %s s)", scaler.interval)


def stop_in_this_worker() -> None:
    global _scaler
    if _scaler is not None:
        _scaler.stop()
        _scaler = None
