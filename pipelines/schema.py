"""The schemas of a command component and of a pipeline job (Azure ML's commandComponent and
pipelineJob YAML): the keys each mapping may hold, which the API's OpenAPI document lists and the
CLI checks files against. pipelines.component_spec and pipelines.pipeline_spec check a mapping's
keys here, then the rules of the values (types, bindings, the step graph) themselves."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from studio.schema import SpecSerializer, Tags, Text, Value
from sweeps.spec import SweepLimitsSpec

INPUT_HELP = "uri_file, uri_folder, mltable, a model type, or a literal (string, integer, number, boolean)"


class ComponentInputSpec(SpecSerializer):
    """One declared input of a component."""

    noun = "component input"

    type = Text(help_text=INPUT_HELP)
    default = Value()
    optional = Value(help_text="true or false")
    description = Text()
    min = Value(help_text="integer and number inputs")
    max = Value(help_text="integer and number inputs")
    enum = Value(help_text="The values a string input may take")
    mode = Text(help_text="ro_mount, download, direct …")


class ComponentOutputSpec(SpecSerializer):
    """One declared output of a component."""

    noun = "component output"

    type = Text(help_text="uri_folder, uri_file, mltable, mlflow_model or custom_model")
    description = Text()
    mode = Text(help_text="rw_mount or upload")


class CommandComponentSpec(SpecSerializer):
    """A command component: a versioned step definition (command, code, environment, typed inputs
    and outputs)."""

    ignored_keys = frozenset(
        {"properties", "distribution", "instance_count", "additional_includes"}
        | {"is_anonymous", "id", "creation_context"}  # of a component read back from Azure
    )
    noun = "component"

    name = Text(max_length=255, help_text="Letters, digits, '.', '_' or '-'")
    version = Text(max_length=30, help_text="Auto-numbered unless given")
    display_name = Text(max_length=255)
    description = Text()
    tags = Tags()
    type = Text(help_text="command")
    inputs = serializers.DictField(child=ComponentInputSpec(), required=False, allow_null=True)
    outputs = serializers.DictField(child=ComponentOutputSpec(), required=False, allow_null=True)
    code = Text(help_text="A local folder (the CLI uploads it) or a code id")
    environment = Value(help_text="azureml:name:version, name@latest, or an inline environment")
    command = Text(help_text="The command; ${{inputs.x}} and ${{outputs.y}} are its inputs and outputs")
    is_deterministic = Value(help_text="true (default): a step with the same inputs may be reused")
    environment_variables = Value(help_text="Variable names to values")
    resources = Value(help_text="As a command job's resources")


class PipelineSettingsSpec(SpecSerializer):
    """A pipeline's `settings`."""

    ignored_keys = frozenset({"on_init", "on_finalize", "continue_run_on_failed_optional_input", "timeout"})
    noun = "settings"

    default_compute = Text(help_text="Where steps without their own compute run")
    default_datastore = Text(help_text="Where outputs go unless a step says")
    default_environment = Value(help_text="The environment of inline steps that name none")
    continue_on_step_failure = Value(help_text="true: the other branches go on when a step fails")
    force_rerun = Value(help_text="true: no step is reused")


STEP_IGNORED = frozenset(
    {"properties", "resources", "distribution", "limits", "identity", "services", "queue_settings"}
)


class PipelineStepSpec(SpecSerializer):
    """A `type: command` step: a component (by reference, file or inline) or an inline command."""

    ignored_keys = STEP_IGNORED
    noun = "pipeline step"

    type = Text(help_text="command (default) or sweep")
    component = Value(help_text="azureml:name:version, name@latest, a component file or an inline component")
    inputs = Value(help_text="Input name -> a value or a binding such as ${{parent.jobs.a.outputs.x}}")
    outputs = Value(help_text="Output name -> a binding such as ${{parent.outputs.y}}, or a mapping")
    compute = Text()
    environment_variables = Value()
    display_name = Text(max_length=255)
    description = Text()
    tags = Tags()
    command = Text(help_text="An inline step's command (instead of a component)")
    code = Text(help_text="An inline step's code")
    environment = Value(help_text="An inline step's environment")
    is_deterministic = Value()


class PipelineSweepStepSpec(SpecSerializer):
    """A `type: sweep` step: `trial` names the component, the search space some of its literal
    inputs; its outputs are the best trial's."""

    ignored_keys = STEP_IGNORED - {"limits"}
    noun = "sweep step"

    type = Text(help_text="sweep")
    trial = Value(help_text="The component each trial runs (a reference, a file or inline)")
    inputs = Value()
    outputs = Value()
    compute = Text()
    environment_variables = Value()
    display_name = Text(max_length=255)
    description = Text()
    tags = Tags()
    is_deterministic = Value()
    search_space = Value(help_text="As a sweep job's")
    objective = Value(help_text="As a sweep job's")
    sampling_algorithm = Value(help_text="As a sweep job's")
    limits = SweepLimitsSpec(required=False)
    early_termination = Value(help_text="As a sweep job's")


class PipelineJobSpec(SpecSerializer):
    """A pipeline job: steps wired by data bindings, run as child jobs."""

    ignored_keys = frozenset({"properties", "identity", "status", "services"})
    noun = "pipeline job"

    type = Text(help_text="pipeline")
    name = Text(max_length=255)
    display_name = Text(max_length=255)
    description = Text()
    tags = Tags()
    experiment_name = Text(max_length=255)
    compute = Text(help_text="The default compute of its steps (settings.default_compute wins)")
    inputs = Value(help_text="The pipeline's inputs, bound in steps as ${{parent.inputs.x}}")
    outputs = Value(help_text="The pipeline's outputs, bound from steps as ${{parent.outputs.y}}")
    settings = PipelineSettingsSpec(required=False)
    jobs = serializers.DictField(
        child=PolymorphicProxySerializer(
            component_name="PipelineStepDefinition",
            serializers=[PipelineStepSpec, PipelineSweepStepSpec],
            resource_type_field_name=None,
        ),
        required=False,
        help_text="Step name -> step",
    )
