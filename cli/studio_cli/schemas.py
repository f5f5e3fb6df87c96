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
    "environment_variables",
    "pip_requirements",
    "user_managed_dependencies",
    "interpreter_path",
    "inference_config",
    "datastore",
    "intellectual_property",
}
ENVIRONMENT_BUILD = {"path", "dockerfile_path", "dockerfile"}

COMPUTE = {
    # Studio's settings of every type
    "name",
    "type",
    "description",
    "tags",
    "size",
    "cpu_cores",
    "memory_mb",
    "gpus",
    "backend",
    "min_instances",
    "max_instances",
    "idle_time_before_scale_down",
    "tier",
    "assigned_to",
    "docker_host",
    "tls",
    # Azure-only settings the server accepts and ignores (with a notice)
    "location",
    "identity",
    "network_settings",
    "ssh_public_access_enabled",
    "ssh_settings",
    "admin_username",
    "admin_password",
    "ssh_key_value",
    "enable_node_public_ip",
    "create_on_behalf_of",
    "schedules",
    "setup_scripts",
    "resource_id",
    "endpoint",
    "idle_time_before_shutdown",
    "idle_time_before_shutdown_minutes",
    "custom_applications",
    "enable_sso",
    "enable_root_access",
    "os_image_metadata",
    "properties",
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
    "status",
    "is_deterministic",
}
# A sweep job (sweepJob.schema.json); the server checks the search space, objective and limits.
SWEEP = {
    "type",
    "name",
    "display_name",
    "experiment_name",
    "description",
    "tags",
    "properties",
    "trial",
    "compute",
    "inputs",
    "outputs",
    "search_space",
    "sampling_algorithm",
    "objective",
    "limits",
    "early_termination",
    "identity",
    "queue_settings",
    "status",
}
SWEEP_TRIAL = {"type", "code", "command", "environment", "environment_variables", "resources"}
JOB_INPUT = {"type", "path", "mode", "default", "optional", "description", "min", "max", "enum", "value", "datastore"}
JOB_OUTPUT = {"type", "path", "mode", "name", "version", "description", "asset_name", "asset_version"}
JOB_LIMITS = {"timeout", "max_retries"}
JOB_ENVIRONMENT = ENVIRONMENT - {"version"}  # an inline (anonymous) environment

DATA = COMMON | {"type", "path", "datastore", "stage", "auto_delete_setting"}

MODEL = COMMON | {"type", "path", "stage", "flavors", "datastore", "job_name", "intellectual_property"}

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
    "endpoint_url",
    "region",
    "stage",
    "auto_delete_setting",
}

# managedOnlineEndpoint (Azure's keys; identity, kind, public_network_access: accepted, not used)
ONLINE_ENDPOINT = {
    "name",
    "description",
    "tags",
    "properties",
    "auth_mode",
    "traffic",
    "mirror_traffic",
    "identity",
    "kind",
    "public_network_access",
    "compute",
}
# managedOnlineDeployment / kubernetesOnlineDeployment
ONLINE_DEPLOYMENT = {
    "name",
    "endpoint_name",
    "description",
    "tags",
    "properties",
    "type",
    "model",
    "code_configuration",
    "environment",
    "instance_type",
    "instance_count",
    "environment_variables",
    "request_settings",
    "liveness_probe",
    "readiness_probe",
    "scale_settings",
    "app_insights_enabled",
    "egress_public_network_access",
    "data_collector",
    "model_mount_path",
    "resources",
}
DEPLOYMENT_CODE = {"code", "scoring_script"}
DEPLOYMENT_MODEL = {"name", "version", "path", "type", "description", "tags"}
# A command component (commandComponent.schema.json).
COMPONENT = COMMON | {
    "display_name",
    "type",
    "inputs",
    "outputs",
    "code",
    "environment",
    "command",
    "is_deterministic",
    "environment_variables",
    "resources",
    "distribution",
    "additional_includes",
}
# A pipeline job (pipelineJob.schema.json) and its steps; the server checks bindings and types.
PIPELINE = {
    "type",
    "name",
    "display_name",
    "experiment_name",
    "description",
    "tags",
    "properties",
    "compute",
    "inputs",
    "outputs",
    "settings",
    "jobs",
    "identity",
    "status",
}
PIPELINE_STEP = {
    "type",
    "component",
    "inputs",
    "outputs",
    "compute",
    "environment_variables",
    "display_name",
    "description",
    "tags",
    "command",
    "code",
    "environment",
    "is_deterministic",
    "properties",
    "resources",
    "distribution",
    "limits",
    "identity",
    "services",
    "queue_settings",
}
