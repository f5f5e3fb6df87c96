"""The studio shell's left navigation. An app that fills a section points its entry at its own
URL name; until then the section shows an honest "coming soon" page."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    url_name: str
    icon: str
    group: str = "assets"


SECTIONS: list[Section] = [
    Section("home", "Home", "studio:workspace_home", "home", "top"),
    Section("jobs", "Jobs", "studio:coming_soon", "play"),
    Section("experiments", "Experiments", "studio:coming_soon", "flask"),
    Section("environments", "Environments", "studio:coming_soon", "box"),
    Section("data", "Data", "studio:coming_soon", "table"),
    Section("models", "Models", "studio:coming_soon", "cube"),
    Section("compute", "Compute", "studio:coming_soon", "cpu", "manage"),
    Section("datastores", "Datastores", "studio:coming_soon", "database", "manage"),
    Section("members", "Members", "studio:member_list", "users", "manage"),
    Section("activity", "Activity", "studio:activity_list", "clock", "manage"),
    Section("settings", "Settings", "studio:workspace_settings", "gear", "manage"),
]

# What each coming section will hold, so its placeholder says something true and useful.
COMING_SOON: dict[str, str] = {
    "jobs": "Submit command jobs to your compute, then follow their status, logs, metrics and outputs live.",
    "experiments": "Group jobs into experiments and compare their metrics and parameters side by side.",
    "environments": "Browse curated environments and build your own from an image, a conda file or a Dockerfile.",
    "data": "Register versioned data assets (files, folders, MLTables) and use them as job inputs.",
    "compute": "Manage local, Docker, cluster, instance and attached compute targets and their nodes.",
    "models": "Register trained models with their files, lineage and MLflow signature, and use them in jobs.",
    "datastores": "Connect local folders, Azure Blob containers and S3 buckets, with encrypted credentials.",
}


def replace_section(key: str, url_name: str) -> None:
    """Called by an app's AppConfig.ready() when it takes over a section."""
    for i, section in enumerate(SECTIONS):
        if section.key == key:
            SECTIONS[i] = Section(section.key, section.label, url_name, section.icon, section.group)
            COMING_SOON.pop(key, None)
            return
    raise KeyError(key)
