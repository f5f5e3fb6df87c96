"""Schedules: the server time and SQL queries of the schedules list page and API with 200
schedules (each shows its next run, computed as beat does), the time of one firing (the task body:
checks, a job submitted through the normal path, the run recorded), and the time of one beat pass
over the 200 schedules' entries with django-celery-beat's DatabaseScheduler (nothing due).

    .venv/bin/python bench/schedules.py            # SQLite in a temporary folder; no broker needed
"""

from __future__ import annotations

import statistics
import time

from bench_django import setup_django  # a sibling of this script

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

SCHEDULES = 200


def timed(fn, repeat: int = 7) -> tuple[float, float, int]:
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(ctx.captured_queries)
    times.sort()
    return statistics.median(times), times[-1], queries


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django_celery_beat.schedulers import DatabaseScheduler

    from environments import services as env_services
    from environments import spec as env_spec
    from jobs import services as job_services
    from schedules import services
    from studio import services as studio_services
    from studio.celery import app

    job_services.submit.send_run = lambda job_id, queue: None  # measure submission, not the broker
    owner = get_user_model().objects.create_user("bench", password="bench-password-1")
    workspace = studio_services.do_create_workspace(name="ws-bench", actor=owner)
    env_services.do_create_environment_version(
        workspace, actor=owner, definition=env_spec.parse({"name": "plain", "image": settings.STUDIO_BASE_IMAGE})
    )
    job_services.do_submit_job(
        workspace, actor=owner, data={"name": "source", "command": "echo hi", "environment": "plain:1"}
    )
    created = []
    start = time.perf_counter()
    for i in range(SCHEDULES):
        trigger = (
            {"type": "cron", "expression": f"{i % 60} */2 * * 1-5", "time_zone": "Europe/Berlin"}
            if i % 2
            else {"type": "recurrence", "frequency": "hour", "interval": 1 + i % 5}
        )
        created.append(
            services.do_create_schedule(
                workspace, {"name": f"s{i}", "trigger": trigger, "create_job": "azureml:source"}, actor=owner
            )
        )
    create_ms = (time.perf_counter() - start) * 1000 / SCHEDULES
    client = Client()
    client.force_login(owner)

    print(f"schedules: {SCHEDULES} (half cron, half recurrence)")
    print(f"  create one (validate, copy the job, beat entry):  {create_ms:7.1f} ms")
    for label, url in (
        ("list page", "/w/ws-bench/schedules/"),
        ("list API", "/api/v1/workspaces/ws-bench/schedules/"),
        ("one schedule page", "/w/ws-bench/schedules/s1/"),
    ):
        median, worst, queries = timed(lambda u=url: client.get(u))
        print(f"  {label:<48} {median:7.1f} ms median, {worst:7.1f} ms worst, {queries} SQL queries")
    median, worst, queries = timed(lambda: services.fire_schedule(created[1].pk))
    print(f"  {'one firing (submits a job)':<48} {median:7.1f} ms median, {worst:7.1f} ms worst, {queries} SQL queries")
    scheduler = DatabaseScheduler(app=app, lazy=True)

    def beat_pass():
        for entry in scheduler.all_as_schedule().values():
            entry.is_due()

    median, worst, queries = timed(beat_pass)
    print(f"  {'beat pass over every entry (load + is_due)':<48} {median:7.1f} ms median, {worst:7.1f} ms worst")


if __name__ == "__main__":
    main()
