"""The schemas of an online endpoint and an online deployment (Azure ML's managedOnlineEndpoint
and managedOnlineDeployment YAML): the keys each body may hold, which the API checks first (a typo
is refused with its line and a "did you mean"), its OpenAPI document lists and the CLI checks files
against. endpoints.spec keeps the rules of the values (names, traffic, instance counts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from endpoints.spec import AUTH_MODES, MAX_INSTANCES
from studio.schema import SpecSerializer, Tags, Text, Value


class TagMapping(Tags):
    """Tags as Azure's endpoint YAML writes them, a mapping (not name=value text), then the one tag
    rule (studio.tags.clean_tags)."""

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError("tags maps names to values.")
        return super().to_internal_value(data)


class DeploymentCodeSpec(SpecSerializer):
    """`code_configuration`: the scoring code of a deployment (online or batch)."""

    noun = "code configuration"

    code = Value(help_text="A code id from POST /codes/ (the CLI uploads a local folder first)")
    scoring_script = Text(help_text="A .py file in the code: init() and run()")


class OnlineEndpointSpec(SpecSerializer):
    """An online endpoint: its name, auth mode and traffic split over its deployments."""

    ignored_keys = frozenset({"properties", "identity", "kind", "public_network_access", "compute"})
    tolerated_keys = frozenset({"scoring_uri", "deployments", "created_at"})  # the API's answer, sent back
    noun = "online endpoint"

    name = Text(help_text="3-32 letters, digits or hyphens, starting with a letter")
    description = Text()
    tags = TagMapping()
    auth_mode = Text(help_text=" or ".join(AUTH_MODES))
    traffic = Value(help_text="Deployment name -> whole percent; they add up to 100 (or 0)")
    mirror_traffic = Value(help_text="One deployment name -> a percent up to 50 copied to it")


class OnlineDeploymentSpec(SpecSerializer):
    """An online deployment: a model served by scoring code in an environment on instances."""

    ignored_keys = frozenset(
        {"description", "tags", "properties", "type", "resources", "model_mount_path", "data_collector"}
        | {"request_settings", "liveness_probe", "readiness_probe", "scale_settings"}
        | {"app_insights_enabled", "egress_public_network_access"}
    )
    tolerated_keys = frozenset({"generation", "instances"})
    noun = "online deployment"

    name = Text(help_text="3-32 letters, digits or hyphens, starting with a letter")
    endpoint_name = Text(help_text="The endpoint in the URL, if given")
    model = Value(help_text="azureml:name:version (the CLI registers an inline model first)")
    code_configuration = DeploymentCodeSpec(required=False, allow_null=True)
    environment = Value(help_text="azureml:name:version; an mlflow_model without code may leave it out")
    instance_type = Text(help_text="An Azure VM size (recorded)")
    instance_count = Value(help_text=f"A whole number from 1 to {MAX_INSTANCES}")  # endpoints.spec's rule
    environment_variables = Value(help_text="Variable names to values")
    compute = Text(help_text="The compute target whose nodes run the instances")
