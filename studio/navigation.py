"""The studio shell's left navigation: one entry per section, pointing at the page that holds it."""

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
    Section("jobs", "Jobs", "jobs:job_list", "play"),
    Section("schedules", "Schedules", "schedules:schedule_list", "calendar"),
    Section("experiments", "Experiments", "jobs:experiment_list", "flask"),
    Section("environments", "Environments", "environments:environment_list", "box"),
    Section("data", "Data", "datastores:data_list", "table"),
    Section("models", "Models", "registry:model_list", "cube"),
    Section("components", "Components", "pipelines:component_list", "box"),
    Section("endpoints", "Endpoints", "endpoints:endpoint_list", "zap"),
    Section("batch_endpoints", "Batch endpoints", "endpoints:batch_endpoint_list", "layers"),
    Section("compute", "Compute", "compute:compute_list", "cpu", "manage"),
    Section("datastores", "Datastores", "datastores:datastore_list", "database", "manage"),
    Section("members", "Members", "studio:member_list", "users", "manage"),
    Section("activity", "Activity", "studio:activity_list", "clock", "manage"),
    Section("settings", "Settings", "studio:workspace_settings", "gear", "manage"),
]
