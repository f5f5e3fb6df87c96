"""The two ways to make a schedule in the browser: a cron expression + a job to copy, or a schedule
YAML (pasted or uploaded). Both build the same mapping `do_create_schedule` validates."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from studio.yamlspec import decode, load_mapping

MAX_YAML = 256 * 1024


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Letters, digits, '-' or '_'.")
    display_name = forms.CharField(max_length=255, required=False)
    expression = forms.CharField(
        label="Cron expression",
        initial="0 * * * *",
        help_text="minute hour day-of-month month day-of-week, e.g. */15 * * * * or 0 9 * * 1-5",
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
    )
    time_zone = forms.CharField(
        initial="UTC",
        help_text="An IANA name (Europe/Berlin) or a Windows one (Pacific Standard Time).",
    )
    job = forms.ChoiceField(label="Job to copy", help_text="Each firing submits a copy of this command job.")

    def __init__(self, *args, jobs: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["job"].choices = [("", "Choose a job…"), *jobs]

    def to_spec(self) -> dict:
        data = self.cleaned_data
        spec = {
            "name": data["name"].strip(),
            "trigger": {
                "type": "cron",
                "expression": data["expression"].strip(),
                "time_zone": data["time_zone"].strip(),
            },
            "create_job": f"azureml:{data['job']}",
        }
        if data.get("display_name"):
            spec["display_name"] = data["display_name"].strip()
        return spec


class ScheduleYAMLForm(forms.Form):
    yaml_text = forms.CharField(
        label="Schedule YAML",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 14,
                "spellcheck": "false",
                "class": "code",
                "placeholder": "$schema: https://azuremlschemas.azureedge.net/latest/schedule.schema.json\n"
                'name: nightly-train\ntrigger:\n  type: cron\n  expression: "0 2 * * *"\n  time_zone: UTC\n'
                "create_job: azureml:<a job to copy>",
            }
        ),
    )
    yaml_file = forms.FileField(label="…or upload a .yml file", required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("yaml_file")
        if upload is not None:
            if upload.size > MAX_YAML:
                raise forms.ValidationError("That file is too large for a schedule.")
            source = upload.name
            try:
                text = decode(upload.read(), source=source)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from None
        elif (data.get("yaml_text") or "").strip():
            source, text = "schedule YAML", data["yaml_text"]
        else:
            raise forms.ValidationError("Paste a schedule YAML or choose a file.")
        data["source"] = source
        try:
            data["mapping"] = load_mapping(text, source=source)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        return data
