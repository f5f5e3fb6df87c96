"""One build per spec hash and backend at a time, on every node: a claimed row in the database.

    with build_lock(build, log):
        ...   # only this build materialises build.spec_hash on build.backend now

A second build of the same spec waits (saying "waiting for build #N on node X" in its log) until
the first one releases its claim, then finds the first one's result as a cache hit: nobody ever
runs on a half-built venv or image. The claim lives in the database, not in a file, because the
nodes of a cluster share the database but not their disks. A holder heart-beats while it builds;
a claim that stopped heart-beating (its worker was killed) is taken over.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from environments.models import BuildLock, EnvironmentBuild

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=60)  # a dozen missed heartbeats: the holder is gone
POLL_SECONDS = 0.5


def node_name() -> str:
    return f"{socket.gethostname()} (pid {os.getpid()})"


def _claim(build: EnvironmentBuild, node: str) -> bool:
    now = timezone.now()
    try:
        with transaction.atomic():
            BuildLock.objects.create(
                spec_hash=build.spec_hash, backend=build.backend, build=build, node=node, heartbeat_at=now
            )
        return True
    except IntegrityError:
        pass
    # Taken over only if its holder stopped heart-beating; the conditional update lets one taker win.
    return bool(
        BuildLock.objects.filter(
            spec_hash=build.spec_hash, backend=build.backend, heartbeat_at__lt=now - STALE_AFTER
        ).update(build=build, node=node, heartbeat_at=now)
    )


@contextlib.contextmanager
def build_lock(build: EnvironmentBuild, log: Callable[[str], None], *, timeout: float | None = None) -> Iterator[None]:
    """Hold the claim on `build`'s spec hash and backend for the block; wait for it first if
    another build holds it. `timeout` (seconds) raises TimeoutError when the wait is longer."""
    node = node_name()
    started = time.monotonic()
    announced = None
    while not _claim(build, node):
        holder = (
            BuildLock.objects.filter(spec_hash=build.spec_hash, backend=build.backend)
            .values("build_id", "node")
            .first()
        )
        if holder and holder["build_id"] != announced:
            announced = holder["build_id"]
            log(
                f"Waiting for build #{holder['build_id']} on node {holder['node'] or '?'}: it builds the same spec; "
                "this build continues when it ends."
            )
        if timeout is not None and time.monotonic() - started > timeout:
            raise TimeoutError(f"build #{announced} still holds the spec after {int(timeout)} s")
        time.sleep(POLL_SECONDS)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(build, stop), daemon=True, name=f"build-{build.pk}-heartbeat")
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join(HEARTBEAT_SECONDS + 5)
        BuildLock.objects.filter(spec_hash=build.spec_hash, backend=build.backend, build=build).delete()


def _heartbeat(build: EnvironmentBuild, stop: threading.Event) -> None:
    try:
        while not stop.wait(HEARTBEAT_SECONDS):
            BuildLock.objects.filter(spec_hash=build.spec_hash, backend=build.backend, build=build).update(
                heartbeat_at=timezone.now()
            )
    finally:
        connection.close()  # this thread's own connection
