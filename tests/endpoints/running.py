"""What a worker node does for endpoints, in a test: reconcile this node's instances every half
second in a thread beside the test (and the live server), and stop every instance at the end."""

from __future__ import annotations

import threading

from django.db import close_old_connections

from endpoints import instances
from tests.endpoints.helpers import reconcile_here


class Reconciler:
    def __init__(self, every: float = 0.5):
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        try:
            while not self.stop.wait(self.every):
                reconcile_here()
        finally:
            close_old_connections()

    def __enter__(self) -> Reconciler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        instances.stop_all()
