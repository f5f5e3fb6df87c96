"""Forms of the compute pages. They only collect values (no bounds of their own): the one schema,
compute.spec.ComputeSpec, validates them with the API's and YAML files' words, and
compute.services acts."""

from __future__ import annotations

from django import forms

from compute import sizes
from compute.capabilities import largest_machine
from compute.models import Backend, ComputeType, Tier
from studio.forms import TagsField

SIZE_CHOICES = [(s.name, s.label) for s in sizes.SIZES] + [(sizes.CUSTOM, "Custom: the limits typed below")]
FIELDS_OF_TYPE = {
    ComputeType.CLUSTER: ["min_instances", "max_instances", "idle_time_before_scale_down", "tier", "backend"],
    ComputeType.INSTANCE: ["assigned_to", "backend"],
    ComputeType.ATTACHED: ["docker_host", "tls_ca_cert", "tls_client_cert", "tls_client_key"],
    ComputeType.DOCKER: [],
    ComputeType.LOCAL: [],
}
TYPE_FIELDS = {f for names in FIELDS_OF_TYPE.values() for f in names}
PEM = forms.Textarea(attrs={"rows": 3, "placeholder": "-----BEGIN CERTIFICATE-----", "spellcheck": "false"})


class ComputeForm(forms.Form):
    """Create (kind given, name asked) or edit (name fixed) one target of one type."""

    name = forms.CharField(
        max_length=32, help_text="2–32 letters, digits or '-', starting with a letter. It names the target's queue."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    size = forms.ChoiceField(
        choices=SIZE_CHOICES,
        initial=sizes.DEFAULT_SIZE,
        help_text="The limits each job gets (CPU, memory, GPUs), named like Azure VM sizes.",
    )
    cpu_cores = forms.DecimalField(label="CPU cores per job", required=False, decimal_places=2)
    memory_mb = forms.IntegerField(label="Memory per job (MB)", required=False)
    gpus = forms.IntegerField(label="GPUs per job", required=False)
    backend = forms.ChoiceField(
        choices=Backend.choices, initial=Backend.VENV, help_text="How jobs run on the nodes: processes or containers."
    )
    min_instances = forms.IntegerField(initial=0, help_text="Nodes the scaler keeps up even when nothing runs.")
    max_instances = forms.IntegerField(initial=1, help_text="At most this many jobs run at once (one per node).")
    idle_time_before_scale_down = forms.IntegerField(label="Idle seconds before scale down", initial=120)
    tier = forms.ChoiceField(
        choices=Tier.choices,
        initial=Tier.DEDICATED,
        help_text="Recorded for the scaler; low-priority jobs may be preempted.",
    )
    assigned_to = forms.ChoiceField(label="Assigned to", help_text="Only this member's jobs run on the instance.")
    docker_host = forms.CharField(
        label="Docker engine address",
        required=False,
        help_text="ssh://user@host, tcp://host:2376 (with TLS below) or unix:///var/run/docker.sock. "
        "Studio contacts it before saving.",
        widget=forms.TextInput(attrs={"placeholder": "tcp://gpu-box.lan:2376", "spellcheck": "false"}),
    )
    tls_ca_cert = forms.CharField(label="TLS CA certificate", required=False, widget=PEM)
    tls_client_cert = forms.CharField(label="TLS client certificate", required=False, widget=PEM)
    tls_client_key = forms.CharField(
        label="TLS client key",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "-----BEGIN PRIVATE KEY-----", "spellcheck": "false"}),
        help_text="Stored encrypted and never shown again.",
    )
    tags = TagsField()

    def __init__(self, *args, kind: str, members: list[str], target=None, machine_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.target = target
        # The shared local worker's limits are the Studio administrator's (studio.permissions).
        self.machine_locked = machine_locked
        self.fields["assigned_to"].choices = [(m, m) for m in members]
        # Offer the sizes one job of which fits the machines Studio sees (and the target's own).
        machine = largest_machine()
        current = target.size if target is not None else ""
        offered = [s for s in sizes.SIZES if sizes.fits(s, machine) or s.name == current]
        self.fields["size"].choices = [(s.name, s.label) for s in offered] + [SIZE_CHOICES[-1]]
        self.fields["size"].initial = sizes.default_for(machine)["size"] or sizes.CUSTOM
        self.fields["size"].help_text = (
            f"The limits each job gets (CPU, memory, GPUs), named like Azure VM sizes; those listed fit the largest "
            f"machine Studio sees ({sizes.describe(machine.cpu_count, machine.memory_mb, machine.gpus)})."
        )
        keep = {"name", "description", "size", "cpu_cores", "memory_mb", "gpus", "tags"} | set(FIELDS_OF_TYPE[kind])
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if machine_locked:
            for name in ("size", "cpu_cores", "memory_mb", "gpus", "backend"):
                if name in self.fields:
                    self.fields[name].disabled = True
        if target is not None:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "A target keeps its name (it names its queue)."
            if target.has_tls:
                self.fields["tls_client_key"].help_text = "TLS material is stored; leave blank to keep it."

    def definition(self) -> dict:
        """The cleaned values as a compute definition (the shape of the API body)."""
        data = self.cleaned_data
        out: dict = {"type": self.kind} if self.target is None else {}
        if self.target is None:
            out["name"] = data["name"].strip()
        for key in ("description", "tags", "backend", "tier", "assigned_to", "docker_host"):
            if key in data:
                out[key] = data[key]
        for key in ("min_instances", "max_instances", "idle_time_before_scale_down"):
            if key in data and data[key] is not None:
                out[key] = data[key]
        if data.get("size"):
            out["size"] = data["size"]
        for key in ("cpu_cores", "memory_mb", "gpus"):  # typed limits override the size's
            if data.get(key) is not None:
                out[key] = data[key]
        if self.kind == ComputeType.ATTACHED:
            tls = {k: data.get(f"tls_{k}", "").strip() for k in ("ca_cert", "client_cert", "client_key")}
            tls = {k: v for k, v in tls.items() if v}
            if tls or self.target is None:
                out["tls"] = tls or None
        return out

    def type_fields(self):
        return [self[name] for name in FIELDS_OF_TYPE[self.kind] if name in self.fields and not name.startswith("tls_")]

    def tls_fields(self):
        return [self[name] for name in ("tls_ca_cert", "tls_client_cert", "tls_client_key") if name in self.fields]


class YAMLForm(forms.Form):
    """Create a target from an Azure ML CLI v2 compute YAML (pasted or uploaded)."""

    yaml_text = forms.CharField(
        label="YAML",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 10,
                "spellcheck": "false",
                "class": "code",
                "placeholder": "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
                "name: cpu-cluster\ntype: amlcompute\nsize: Standard_DS3_v2\nmin_instances: 0\nmax_instances: 4\n"
                "idle_time_before_scale_down: 120\ntier: dedicated",
            }
        ),
    )
    yaml_file = forms.FileField(label="…or upload a .yml file", required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("yaml_file")
        if upload is not None:
            if upload.size > 256 * 1024:
                raise forms.ValidationError("That file is too large for a compute definition.")
            data["text"] = upload.read().decode("utf-8", errors="replace")
            data["source"] = upload.name
        elif (data.get("yaml_text") or "").strip():
            data["text"] = data["yaml_text"]
            data["source"] = "YAML"
        else:
            raise forms.ValidationError("Paste a compute YAML or choose a file.")
        return data
