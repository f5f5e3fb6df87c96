"""The schemas of a batch endpoint and a batch deployment (Azure ML's batchEndpoint and
modelBatchDeployment YAML): the keys each body may hold, which the API checks first, its OpenAPI
document lists and the CLI checks files against. endpoints.batch.spec keeps the rules of the
values (the settings' bounds, read from `settings:` or from the older top-level keys)."""

from __future__ import annotations

from endpoints.schema import DeploymentCodeSpec, TagMapping
from studio.schema import SpecSerializer, Text, Value


class BatchEndpointSpec(SpecSerializer):
    """A batch endpoint: a name and the deployment invocations use unless they name one."""

    ignored_keys = frozenset({"properties", "identity", "auth_mode"})
    # The API's (and Azure's) answer, sent back.
    tolerated_keys = frozenset({"deployments", "created_at", "scoring_uri", "openapi_uri", "provisioning_state", "id"})
    noun = "batch endpoint"

    name = Text(help_text="3-32 letters, digits or hyphens, starting with a letter")
    description = Text()
    tags = TagMapping()
    defaults = Value(help_text="{deployment_name: ...}: the deployment invocations use by default")


class BatchDeploymentSpec(SpecSerializer):
    """A batch (model) deployment: the model, scoring driver, environment and compute that score
    an invocation's files in mini-batches, and how."""

    ignored_keys = frozenset({"tags", "properties", "logging_level"})
    tolerated_keys = frozenset({"provisioning_state", "id"})
    noun = "batch deployment"

    name = Text(help_text="3-32 letters, digits or hyphens, starting with a letter")
    endpoint_name = Text(help_text="The endpoint in the URL, if given")
    type = Text(help_text="model")
    description = Text()
    model = Value(help_text="azureml:name:version")
    code_configuration = DeploymentCodeSpec(required=False, allow_null=True)
    environment = Value(help_text="azureml:name:version; an mlflow_model without code may leave it out")
    compute = Text(help_text="The compute target that scores the mini-batches")
    resources = Value(help_text="{instance_count: ...}")
    settings = Value(
        help_text="mini_batch_size, max_concurrency_per_instance, output_action, output_file_name, "
        "retry_settings {max_retries, timeout}, error_threshold"
    )
    environment_variables = Value(help_text="Variable names to values")
    mini_batch_size = Value(help_text="Older schema: settings.mini_batch_size")
    max_concurrency_per_instance = Value(help_text="Older schema: settings.max_concurrency_per_instance")
    output_action = Value(help_text="Older schema: settings.output_action")
    output_file_name = Value(help_text="Older schema: settings.output_file_name")
    retry_settings = Value(help_text="Older schema: settings.retry_settings")
    error_threshold = Value(help_text="Older schema: settings.error_threshold")
    instance_count = Value(help_text="Older schema: resources.instance_count")
