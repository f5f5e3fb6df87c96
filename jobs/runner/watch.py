"""A job's watcher thread: heart-beats for the reaper, notices cancel requests, enforces the
timeout, and stops the run when the job was finished from elsewhere (reaped, deleted)."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from jobs.models import Job, JobStatus

POLL_SECONDS = 0.25


class Watcher:
    def __init__(self, job_id: int):
        self.job_id = job_id
        self.reason = ""  # "canceled" | "timed_out" | "gone" once the run must stop
        self.canceled_by_id = None
        self._handle = None
        self._deadline: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"job-watch:{job_id}", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def attach(self, handle, timeout_seconds: int | None) -> None:
        """Watch a started run: kill it on cancel or when `timeout_seconds` have passed."""
        with self._lock:
            self._handle = handle
            self._deadline = time.monotonic() + timeout_seconds if timeout_seconds else None
            reason = self.reason
        if reason:
            handle.kill()

    def detach(self) -> None:
        with self._lock:
            self._handle = None
            self._deadline = None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _trip(self, reason: str) -> None:
        with self._lock:
            if self.reason:
                return
            self.reason = reason
            handle = self._handle
        if handle is not None:
            handle.kill()

    def _run(self) -> None:
        beat_every = settings.STUDIO_JOB_HEARTBEAT_SECONDS
        last_beat = 0.0
        try:
            while not self._stop.wait(POLL_SECONDS):
                try:
                    self._check()
                    now = time.monotonic()
                    if now - last_beat >= beat_every:
                        Job.objects.filter(pk=self.job_id).update(heartbeat_at=timezone.now())
                        last_beat = now
                except Exception:  # a database hiccup must not end the watch; retry next round
                    close_old_connections()
                    connection.close()
        finally:
            connection.close()

    def _check(self) -> None:
        row = Job.objects.filter(pk=self.job_id).values("status", "cancel_requested_at", "canceled_by").first()
        if row is None:
            self._trip("gone")
        elif row["cancel_requested_at"] or row["status"] == JobStatus.CANCELED:
            self.canceled_by_id = row["canceled_by"]
            self._trip("canceled")
        elif row["status"] in (JobStatus.FAILED, JobStatus.COMPLETED):
            self._trip("gone")
        with self._lock:
            deadline = self._deadline
        if deadline is not None and time.monotonic() > deadline:
            self._trip("timed_out")
