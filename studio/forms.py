from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from studio.models import Workspace, name_validator, slug_validator
from studio.permissions import ACTIONS
from studio.tags import parse_tag_text

User = get_user_model()


def parse_tags(text: str) -> dict[str, str]:
    """A tags field's text; errors are the field's own (no "tags:" prefix)."""
    try:
        return parse_tag_text(text)
    except ValidationError as exc:
        raise forms.ValidationError(exc.message_dict["tags"]) from None


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError onto the form's fields (unknown fields go on top)."""
    for field, msgs in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


def format_tags(tags: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" if v else k for k, v in tags.items())


class TagsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "team=vision\nstage=dev"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "One name=value per line.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return format_tags(value) if isinstance(value, dict) else value

    def to_python(self, value):
        return parse_tags(super().to_python(value) or "")


class WorkspaceCreateForm(forms.Form):
    name = forms.CharField(
        max_length=33,
        validators=[name_validator],
        help_text="Used in addresses: 3–33 letters, digits, '-' or '_'. It cannot be changed later.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    tags = TagsField()

    def clean_name(self):
        name = self.cleaned_data["name"]
        if Workspace.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A workspace named {name!r} already exists.")
        return name


class WorkspaceSettingsForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000)
    tags = TagsField()


class WorkspaceDeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the workspace name to confirm")

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_confirm(self):
        if self.cleaned_data["confirm"] != self.workspace.name:
            raise forms.ValidationError("That is not this workspace's name.")
        return self.cleaned_data["confirm"]


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField()
    create_account = forms.BooleanField(
        required=False,
        label="Create a new account for this person",
        help_text="Tick when they have no Studio account yet; give them the password you set.",
    )
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False, label="Initial password")

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.slug, r.name) for r in roles]
        self.fields["role"].initial = "reader"

    def clean(self):
        data = super().clean()
        username = data.get("username", "").strip()
        if not username:
            return data
        exists = User.objects.filter(username=username, is_active=True).exists()
        if data.get("create_account"):
            if not data.get("password"):
                self.add_error("password", "Set an initial password for the new account.")
        elif not exists:
            self.add_error("username", f"No user named {username!r}. Tick 'Create a new account' to add one.")
        return data


class RoleForm(forms.Form):
    name = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"data-slug-source": "id_slug"}))
    slug = forms.CharField(
        max_length=50,
        validators=[slug_validator],
        help_text="Used by the API and the CLI, e.g. ml_engineer. Filled in from the name until you edit it.",
    )
    description = forms.CharField(max_length=300, required=False)
    actions = forms.MultipleChoiceField(
        choices=[(a, f"{a} — {d}") for a, d in ACTIONS.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one action."},
    )


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where you will use it, e.g. 'laptop CLI'.")
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        coerce=int,
        initial=30,
        choices=[(7, "in 7 days"), (30, "in 30 days"), (90, "in 90 days"), (365, "in a year"), (0, "never")],
    )
