"""The workspace home page's summary: a few counts per section and the latest jobs.

The foundation knows the other apps only by name (apps.get_model), so it keeps working when an
app is absent; one query per card, whatever the workspace's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Count, Q
from django.urls import reverse

from studio.models import Workspace


@dataclass
class Card:
    label: str
    value: int
    url: str
    icon: str
    detail: str = ""


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def summary_cards(workspace: Workspace, member_count: int) -> list[Card]:
    ws = workspace.name
    cards: list[Card] = []
    if Job := _model("jobs.Job"):
        counts = Job.objects.filter(workspace=workspace).aggregate(
            total=Count("pk"),
            running=Count("pk", filter=Q(status__in=["Preparing", "Running", "Finalizing"])),
            queued=Count("pk", filter=Q(status__in=["NotStarted", "Queued"])),
            failed=Count("pk", filter=Q(status="Failed")),
        )
        detail = f"{counts['running']} running · {counts['queued']} queued · {counts['failed']} failed"
        cards.append(Card("jobs", counts["total"], reverse("jobs:job_list", args=[ws]), "play", detail))
    if Environment := _model("environments.Environment"):
        custom = Environment.objects.filter(workspace=workspace).count()
        cards.append(
            Card(
                "custom environments",
                custom,
                reverse("environments:environment_list", args=[ws]),
                "box",
                "plus the curated catalog",
            )
        )
    if Target := _model("compute.ComputeTarget"):
        targets = Target.objects.filter(workspace=workspace).count()
        cards.append(Card("compute targets", targets, reverse("compute:compute_list", args=[ws]), "cpu"))
    if DataAsset := _model("datastores.DataAsset"):
        assets = DataAsset.objects.filter(workspace=workspace).count()
        cards.append(Card("data assets", assets, reverse("datastores:data_list", args=[ws]), "table"))
    if Datastore := _model("datastores.Datastore"):
        stores = Datastore.objects.filter(workspace=workspace).count()
        cards.append(Card("datastores", stores, reverse("datastores:datastore_list", args=[ws]), "database"))
    cards.append(
        Card(
            "members" if member_count != 1 else "member",
            member_count,
            reverse("studio:member_list", args=[ws]),
            "users",
        )
    )
    return cards


def recent_jobs(workspace: Workspace, limit: int = 6) -> list:
    Job = _model("jobs.Job")
    if Job is None:
        return []
    return list(Job.objects.filter(workspace=workspace).select_related("created_by", "experiment")[:limit])
