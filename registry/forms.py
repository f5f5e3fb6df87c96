"""Forms of the model pages."""

from __future__ import annotations

from django import forms

from registry.models import ModelVersion
from studio.forms import TagsField

TYPE_CHOICES = [("", "Detect (MLmodel file: mlflow_model)"), *ModelVersion.Type.choices]


class RegisterForm(forms.Form):
    """Register a model version from a job's outputs, a URI, or local files."""

    SOURCES = [("job", "Job output"), ("upload", "Local files"), ("uri", "Datastore or run URI")]

    name = forms.CharField(max_length=255, help_text="e.g. iris-classifier. Letters, digits, '.', '_' and '-'.")
    version = forms.CharField(required=False, max_length=30, help_text="Leave empty for the next number.")
    type = forms.ChoiceField(choices=TYPE_CHOICES, required=False)
    source = forms.ChoiceField(choices=SOURCES, initial="job", widget=forms.RadioSelect, label="Model files")
    job = forms.CharField(required=False, max_length=100, label="Job", help_text="The job (run) name.")
    job_path = forms.CharField(
        required=False, initial="outputs/model", label="Path in the job", help_text="e.g. outputs/model"
    )
    uri = forms.CharField(
        required=False,
        max_length=2048,
        label="URI",
        help_text="azureml://datastores/<datastore>/paths/<path>, runs:/<run>/<path> or azureml://jobs/<job>/outputs/…",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    tags = TagsField()

    def path(self) -> str:
        data = self.cleaned_data
        if data.get("source") == "job":
            job, rel = (data.get("job") or "").strip(), (data.get("job_path") or "").strip().strip("/")
            return f"azureml://jobs/{job}/outputs/artifacts/paths/{rel}" if job else ""
        if data.get("source") == "uri":
            return (data.get("uri") or "").strip()
        return ""


class VersionEditForm(forms.Form):
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    tags = TagsField()
