"""The keys of Azure ML CLI v2 YAML files that Studio accepts, per asset type.

Keys Azure knows but Studio does not use (e.g. `identity`) are accepted here and passed on: the
server decides whether to use or ignore them. Anything else is a typo the CLI reports with its line.
"""

from __future__ import annotations

COMMON = {"name", "version", "description", "tags", "properties"}

ENVIRONMENT = COMMON | {
    "image",
    "conda_file",
    "build",
    "os_type",
    "inference_config",
    "environment_variables",
    "python_path",
    "user_managed_dependencies",
    "datastore",
    "stage",
    "intellectual_property",
}
ENVIRONMENT_BUILD = {"path", "dockerfile_path"}

COMPUTE = {
    "name",
    "type",
    "description",
    "tags",
    "size",
    "location",
    "min_instances",
    "max_instances",
    "idle_time_before_scale_down",
    "tier",
    "identity",
    "network_settings",
    "ssh_public_access_enabled",
    "ssh_settings",
    "admin_username",
    "enable_node_public_ip",
    "create_on_behalf_of",
    "schedules",
    "setup_scripts",
    "resource_id",
    "endpoint",
    "docker_host",
    "idle_time_before_shutdown",
    "idle_time_before_shutdown_minutes",
}

JOB = {
    "type",
    "name",
    "display_name",
    "experiment_name",
    "description",
    "tags",
    "properties",
    "command",
    "code",
    "environment",
    "environment_variables",
    "compute",
    "inputs",
    "outputs",
    "limits",
    "resources",
    "distribution",
    "identity",
    "services",
    "queue_settings",
    "parent_job_name",
    "status",
}
JOB_INPUT = {"type", "path", "mode", "default", "optional", "description", "min", "max", "enum", "value", "datastore"}
JOB_OUTPUT = {"type", "path", "mode", "name", "version", "description", "asset_name", "asset_version"}
JOB_LIMITS = {"timeout"}
JOB_ENVIRONMENT = ENVIRONMENT - {"version"}  # an inline (anonymous) environment

DATA = COMMON | {"type", "path", "datastore", "stage", "auto_delete_setting"}

DATASTORE = {
    "name",
    "type",
    "description",
    "tags",
    "properties",
    "account_name",
    "container_name",
    "file_share_name",
    "filesystem",
    "store_name",
    "endpoint",
    "protocol",
    "credentials",
    "path",
    "bucket",
    "region",
    "prefix",
}
