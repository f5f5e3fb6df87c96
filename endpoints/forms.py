"""Forms of the endpoint pages. They collect fields only; `deploying.deploy` turns them into the
same managedOnlineEndpoint / managedOnlineDeployment mappings the API and the CLI send."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from compute.models import ComputeTarget, ComputeType
from endpoints import spec
from endpoints.models import AuthMode
from environments.models import EnvironmentVersion
from registry.models import ModelVersion
from studio.versioning import version_sort_key

NEW_ENDPOINT = "__new__"
CODE_SUFFIXES = (".py", ".zip")


def model_choices(workspace) -> list[tuple[str, str]]:
    """Every live model version of the workspace as `azureml:name:version`, newest first per model."""
    rows = ModelVersion.objects.filter(workspace=workspace, archived=False).select_related("model")
    ordered = sorted(rows, key=lambda v: version_sort_key(v.version), reverse=True)
    ordered.sort(key=lambda v: v.model.name.lower())
    return [(f"azureml:{v.model.name}:{v.version}", f"{v.model.name} : {v.version} ({v.type})") for v in ordered]


def environment_choices(workspace) -> list:
    """Grouped `azureml:name:version` choices: the workspace's own environments, then curated
    ones; newest version first."""
    rows = EnvironmentVersion.objects.visible_in(workspace).filter(archived=False).select_related("environment")
    ordered = sorted(rows, key=lambda v: version_sort_key(v.version), reverse=True)
    ordered.sort(key=lambda v: v.environment.name.lower())
    own, curated = [], []
    for row in ordered:
        choice = (f"azureml:{row.environment.name}:{row.version}", f"{row.environment.name} : {row.version}")
        (curated if row.environment.workspace_id is None else own).append(choice)
    return [group for group in (("Custom environments", own), ("Curated environments", curated)) if group[1]]


INFERENCE_SERVER = "azureml-inference-server-http"


def default_environment(workspace) -> str:
    """The environment a script deployment starts from: the workspace's own (newest first), else
    a curated one that has Azure's inference server; the first curated one in the alphabet (data
    preparation) could not serve and would only fail to start."""
    from django.db.models import Q

    from environments.models import EnvironmentVersion

    groups = dict(environment_choices(workspace))
    if groups.get("Custom environments"):
        return groups["Custom environments"][0][0]
    serving = {
        f"azureml:{name}:{version}"
        for name, version in EnvironmentVersion.objects.visible_in(workspace)
        .filter(archived=False, environment__workspace__isnull=True)
        .filter(Q(conda_file__contains=INFERENCE_SERVER) | Q(pip_requirements__contains=INFERENCE_SERVER))
        .values_list("environment__name", "version")
    }
    curated = [value for value, _ in groups.get("Curated environments", [])]
    return next((value for value in curated if value in serving), curated[0] if curated else "")


def compute_choices(workspace) -> list[tuple[str, str]]:
    """The workspace's compute targets that can run instances (not attached engines: an instance
    listens on its node); "" is local."""
    targets = ComputeTarget.objects.filter(workspace=workspace).exclude(
        type__in=(ComputeType.LOCAL, ComputeType.ATTACHED)
    )
    return [("", "local (this server's worker)"), *[(t.name, f"{t.name} — {t.get_type_display()}") for t in targets]]


def _name(value: str) -> str:
    """Azure's endpoint/deployment name rule, as the services check it, on the form's field."""
    try:
        return spec.check_name(value)
    except ValidationError as exc:
        raise forms.ValidationError(exc.message_dict["name"]) from None


class EndpointForm(forms.Form):
    """Create an online endpoint: a name, how callers authenticate, a description."""

    name = forms.CharField(
        max_length=32, help_text="3–32 letters, digits or hyphens, starting with a letter. Part of the scoring URI."
    )
    auth_mode = forms.ChoiceField(
        choices=AuthMode.choices,
        initial=AuthMode.KEY,
        label="Authentication",
        help_text="Key: two endpoint keys. Token: the caller's personal access token (members only).",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class DeployForm(forms.Form):
    """Deploy a model version: to a new endpoint or as a further deployment of an existing one."""

    endpoint = forms.ChoiceField(label="Endpoint")
    endpoint_name = forms.CharField(
        required=False, max_length=32, label="New endpoint name", help_text="3–32 letters, digits or hyphens."
    )
    auth_mode = forms.ChoiceField(choices=AuthMode.choices, initial=AuthMode.KEY, label="Authentication")
    name = forms.CharField(max_length=32, label="Deployment name", initial="blue", help_text="e.g. blue, green.")
    model = forms.ChoiceField(label="Model version")
    environment = forms.ChoiceField(
        required=False,
        label="Environment",
        help_text=(
            "Its packages must include azureml-inference-server-http, as the curated Studio-sklearn-1.9-inference's "
            "do. An MLflow model can use its own."
        ),
    )
    code = forms.FileField(
        required=False,
        label="Scoring script or zipped code folder",
        help_text="A .py file with init() and run(raw_data), or a .zip of the code folder. An MLflow model needs none.",
        widget=forms.ClearableFileInput(attrs={"accept": ".py,.zip"}),
    )
    scoring_script = forms.CharField(
        required=False,
        max_length=500,
        label="Scoring script in the code",
        help_text="Its path inside the zip or folder, e.g. score.py (not needed for a lone .py file).",
    )
    instance_count = forms.IntegerField(min_value=1, max_value=spec.MAX_INSTANCES, initial=1, label="Instances")
    compute = forms.ChoiceField(
        required=False,
        label="Compute",
        help_text="Its nodes run the instances, spread over them. Local: the server's own worker.",
    )

    def __init__(self, *args, workspace, endpoints: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compute"].choices = compute_choices(workspace)
        self.fields["endpoint"].choices = [(NEW_ENDPOINT, "New endpoint…"), *[(e, e) for e in endpoints]]
        self.fields["model"].choices = model_choices(workspace)
        self.fields["environment"].choices = [
            ("", "From the model (MLflow models only)"),
            *environment_choices(workspace),
        ]

    def clean_endpoint_name(self):
        return _name(self.cleaned_data["endpoint_name"]) if self.cleaned_data["endpoint_name"] else ""

    def clean_name(self):
        return _name(self.cleaned_data["name"])

    def clean_code(self):
        upload = self.cleaned_data["code"]
        if upload and not upload.name.lower().endswith(CODE_SUFFIXES):
            raise forms.ValidationError("Upload a .py scoring script or a .zip of the code folder.")
        return upload

    def clean(self):
        data = super().clean()
        if (
            data.get("endpoint") == NEW_ENDPOINT
            and not data.get("endpoint_name")
            and "endpoint_name" not in self.errors
        ):
            self.add_error("endpoint_name", "Name the new endpoint.")
        upload = data.get("code")
        if upload is not None and upload.name.lower().endswith(".zip") and not data.get("scoring_script"):
            self.add_error("scoring_script", "Say which file in the zip is the scoring script.")
        return data


class TrafficForm(forms.Form):
    """`traffic-<deployment>` percent fields, one per deployment, read into a traffic map."""

    def __init__(self, *args, deployments: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in deployments:
            self.fields[f"traffic-{name}"] = forms.IntegerField(min_value=0, max_value=100, label=name)

    def traffic(self) -> dict[str, int]:
        return {key.removeprefix("traffic-"): value for key, value in self.cleaned_data.items()}
