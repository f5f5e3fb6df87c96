"""`python manage.py studio_reaper`: fail the jobs and nodes that dead workers left behind.

Needs no Celery worker (see jobs/reaper.py); run exactly one, or more: every step is a
conditional update, so two reapers never fail a job twice.
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from jobs import reaper


class Command(BaseCommand):
    help = "Fail jobs and nodes whose worker stopped heart-beating (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--interval", type=float, default=None, help="seconds between rounds")

    def handle(self, *args, once: bool, interval: float | None, **options):
        if once:
            self.stdout.write(str(reaper.reap_once()))
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        reaper.run_forever(stop, every=interval)
