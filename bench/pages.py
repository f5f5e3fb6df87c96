"""Server time and SQL query count of the workspace home page and the members page, with 1,000
workspaces and 200 members per workspace. Prints median/p95 ms and queries per page, and the
query count of the same pages in a small workspace (it must not grow with the number of rows).

    .venv/bin/python bench/pages.py            # SQLite in a temporary folder
    DATABASE_URL=postgres://... .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench_django import setup_django  # a sibling of this script

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

WORKSPACES = 1000
MEMBERS = 200
RUNS = 40


def populate() -> None:
    from studio.models import ActivityEvent, Membership, Role, Workspace

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"member{i:03d}", email=f"m{i}@example.com") for i in range(MEMBERS)]
    )
    roles = {r.slug: r for r in Role.objects.filter(workspace=None)}
    cycle = ["owner", "contributor", "reader", "data_scientist", "compute_operator"]
    workspaces = Workspace.objects.bulk_create(
        [Workspace(name=f"ws-{i:04d}", description=f"Workspace {i}", created_by=users[0]) for i in range(WORKSPACES)]
    )
    batch = []
    for ws in workspaces:
        for j, user in enumerate(users):
            batch.append(Membership(workspace=ws, user=user, role=roles[cycle[j % 5]]))
        batch.append(ActivityEvent(workspace=ws, actor=users[0], verb="workspace.created", target=ws.name))
        if len(batch) > 20000:
            _flush(batch)
            batch = []
    _flush(batch)
    small = Workspace.objects.create(name="small", created_by=users[0])
    for user in users[:5]:
        Membership.objects.create(workspace=small, user=user, role=roles["owner"])


def _flush(rows) -> None:
    from studio.models import ActivityEvent, Membership

    Membership.objects.bulk_create([r for r in rows if isinstance(r, Membership)])
    ActivityEvent.objects.bulk_create([r for r in rows if isinstance(r, ActivityEvent)])


def measure(client: Client, url: str) -> tuple[float, float, int]:
    client.get(url)  # warm caches
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries)


def main() -> None:
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    setup_test_environment()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    populate()
    print(
        f"database: {connection.vendor}; {WORKSPACES} workspaces x {MEMBERS} members "
        f"populated in {time.perf_counter() - started:.1f} s"
    )
    client = Client()
    client.force_login(get_user_model().objects.get(username="member000"))
    print(f"{'page':<34}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
    for label, url in [
        ("workspace home (200 members)", "/w/ws-0500/"),
        ("workspace home (5 members)", "/w/small/"),
        ("members page (200 members)", "/w/ws-0500/members/"),
        ("members page (5 members)", "/w/small/members/"),
        ("workspace list (1,001 workspaces)", "/workspaces/"),
        ("API members (200, page of 50)", "/api/v1/workspaces/ws-0500/members/"),
        ("API workspaces (1,001, page of 50)", "/api/v1/workspaces/"),
    ]:
        median, p95, queries = measure(client, url)
        print(f"{label:<34}{median:>10.1f}{p95:>9.1f}{queries:>9}")


if __name__ == "__main__":
    main()
