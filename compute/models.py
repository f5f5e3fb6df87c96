"""Compute targets (where jobs run), the nodes that serve them, and dispatch probes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from compute import sizes
from compute.querysets import ComputeTargetQuerySet, NodeQuerySet

NAME_RULE = "2–32 letters, digits or '-', starting with a letter"
compute_name_validator = RegexValidator(r"^[A-Za-z][A-Za-z0-9-]{1,31}\Z", f"Use {NAME_RULE}.")

LOCAL_NAME = "local"
# Every workspace's built-in `local` target feeds this one queue, so a single local worker
# (`studio_worker --compute local`) serves all workspaces of the server it runs beside.
LOCAL_QUEUE = "compute.local"


class ComputeType(models.TextChoices):
    LOCAL = "local", "Local"
    DOCKER = "docker", "Docker"
    CLUSTER = "cluster", "Compute cluster"
    INSTANCE = "instance", "Compute instance"
    ATTACHED = "attached", "Attached Docker engine"


class Backend(models.TextChoices):
    VENV = "venv", "venv (processes in a virtualenv)"
    DOCKER = "docker", "Docker (containers)"


class Tier(models.TextChoices):
    DEDICATED = "dedicated", "Dedicated"
    LOW_PRIORITY = "low_priority", "Low priority"


class TargetState(models.TextChoices):
    RUNNING = "Running"
    STARTING = "Starting"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    UNREACHABLE = "Unreachable"


class ComputeTarget(models.Model):
    """Where jobs run: one Celery queue (`queue_name`) served by the nodes started for it.

    `state` is the target's lifecycle; nodes (below) say what actually serves it::

        instance:  Starting -> Running -> Stopping -> Stopped -> Starting ...
                   Starting -> Failed (the scaler hook could not start it) -> Starting
        others:    Running <-> Unreachable (every node stopped heart-beating / one is back)

    An instance is Starting until one of its nodes heart-beats, and Stopping until its nodes have
    paused consuming and finished their running jobs. `size`, `cpu_cores`, `memory_mb` and `gpus`
    are per-job limits the backend enforces; `min_instances`/`max_instances` bound a cluster's
    job slots (one job per node slot, as on Azure).
    """

    workspace = models.ForeignKey("studio.Workspace", on_delete=models.CASCADE, related_name="computes")
    name = models.CharField(max_length=32, validators=[compute_name_validator])
    type = models.CharField(max_length=16, choices=ComputeType.choices)
    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.VENV)
    state = models.CharField(max_length=16, choices=TargetState.choices, default=TargetState.RUNNING)
    state_message = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True, max_length=2000)
    tags = models.JSONField(default=dict, blank=True)

    size = models.CharField(max_length=40, blank=True, help_text="Azure VM size name, or blank for a custom size")
    cpu_cores = models.DecimalField(max_digits=6, decimal_places=2, default=4)
    memory_mb = models.PositiveIntegerField(default=14336)
    gpus = models.PositiveSmallIntegerField(default=0)

    min_instances = models.PositiveIntegerField(default=0)
    max_instances = models.PositiveIntegerField(default=1)
    idle_time_before_scale_down = models.PositiveIntegerField(default=120, help_text="Seconds")
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.DEDICATED)

    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    docker_host = models.CharField(max_length=300, blank=True)
    tls_encrypted = models.TextField(blank=True, help_text="Fernet-encrypted JSON of ca_cert/client_cert/client_key")
    engine_info = models.JSONField(default=dict, blank=True, help_text="What the engine said when last contacted")

    # What the autoscaler last decided (see compute.scaling).
    desired_nodes = models.PositiveIntegerField(default=0)
    demand_low_since = models.DateTimeField(null=True, blank=True)
    scaler_status = models.CharField(max_length=500, blank=True)
    scaler_called_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ComputeTargetQuerySet.as_manager()
    # Not stored: what the last create/update wants the user to know, set by the service.
    notices: list[str]

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "workspace", name="compute_unique_name_per_workspace"),
        ]

    def __str__(self) -> str:
        return f"{self.workspace.name}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("compute:compute_detail", args=[self.workspace.name, self.name])

    @property
    def queue_name(self) -> str:
        """The Celery queue the jobs app routes this target's runs to."""
        if self.type == ComputeType.LOCAL:
            return LOCAL_QUEUE
        return f"compute.{self.workspace.name}.{self.name}"

    @property
    def address(self) -> str:
        """What `studio_worker --compute` takes to serve this target."""
        return LOCAL_NAME if self.type == ComputeType.LOCAL else f"{self.workspace.name}/{self.name}"

    @property
    def is_builtin(self) -> bool:
        return self.type == ComputeType.LOCAL

    @property
    def size_label(self) -> str:
        return sizes.describe(float(self.cpu_cores), self.memory_mb, self.gpus)

    @property
    def can_start_stop(self) -> bool:
        return self.type == ComputeType.INSTANCE

    @property
    def scales(self) -> bool:
        return self.type in (ComputeType.CLUSTER, ComputeType.INSTANCE)

    @property
    def has_tls(self) -> bool:
        return bool(self.tls_encrypted)

    @property
    def tab(self) -> str:
        return TAB_OF_TYPE[self.type]

    def nodes(self) -> NodeQuerySet:
        """The nodes serving this target's queue (for `local`, the shared local nodes)."""
        return Node.objects.filter(queue=self.queue_name)


TAB_OF_TYPE = {
    ComputeType.INSTANCE: "instances",
    ComputeType.CLUSTER: "clusters",
    ComputeType.ATTACHED: "attached",
    ComputeType.LOCAL: "local",
    ComputeType.DOCKER: "local",
}


class NodeState(models.TextChoices):
    READY = "Ready"
    PAUSED = "Paused"
    DRAINING = "Draining"
    STOPPED = "Stopped"
    UNREACHABLE = "Unreachable"


LIVE_NODE_STATES = (NodeState.READY, NodeState.PAUSED, NodeState.DRAINING)


class Node(models.Model):
    """One worker process serving one compute queue, known through its heartbeat::

        Ready <-> Paused          (its instance was stopped / started: it stops / resumes consuming)
        Ready|Paused -> Draining  (SIGTERM or "Drain": finish running jobs, take no new ones)
        Draining -> Stopped       (the process exited)
        Ready|Paused|Draining -> Unreachable   (no heartbeat for STUDIO_NODE_UNREACHABLE_SECONDS)
        Unreachable -> Ready      (it heart-beats again)

    `worker_name` is the Celery node name; inside a task it is `self.request.hostname`, which is
    how the jobs app ties a job to the node that runs it. `target` is null for the shared
    local queue (see LOCAL_QUEUE).
    """

    target = models.ForeignKey(ComputeTarget, null=True, blank=True, on_delete=models.CASCADE, related_name="node_set")
    queue = models.CharField(max_length=120, db_index=True)
    worker_name = models.CharField(max_length=200)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=NodeState.choices, default=NodeState.READY)
    state_message = models.CharField(max_length=300, blank=True)
    capacity = models.PositiveIntegerField(default=1, help_text="Jobs it runs at once (Celery concurrency)")
    cpu_count = models.PositiveIntegerField(default=0)
    memory_mb = models.PositiveIntegerField(default=0)
    gpus = models.PositiveIntegerField(default=0)
    backends = models.JSONField(default=dict, blank=True, help_text='{"docker": {"available": true, "detail": "..."}}')
    pythons = models.JSONField(default=list, blank=True, help_text='[{"version": "3.11.7", "path": "..."}]')
    running = models.PositiveIntegerField(default=0)
    running_tasks = models.JSONField(default=list, blank=True)
    drain_requested = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    last_heartbeat = models.DateTimeField(default=timezone.now, db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    objects = NodeQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["worker_name", "queue"], name="node_unique_worker_queue")]

    def __str__(self) -> str:
        return f"{self.worker_name} ({self.queue})"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_NODE_STATES

    @property
    def heartbeat_age(self) -> timedelta:
        return timezone.now() - self.last_heartbeat

    @property
    def heartbeat_ago(self) -> str:
        """'3 s ago', '4 min ago' — heartbeats are seconds apart, so timesince is too coarse."""
        seconds = max(0, int(self.heartbeat_age.total_seconds()))
        if seconds < 90:
            return f"{seconds} s ago"
        if seconds < 90 * 60:
            return f"{seconds // 60} min ago"
        return f"{seconds // 3600} h ago"

    @property
    def looks_lost(self) -> bool:
        """Live by its last word but silent for longer than the threshold: the reaper will mark it
        Unreachable on its next round; pages say so already."""
        limit = timedelta(seconds=settings.STUDIO_NODE_UNREACHABLE_SECONDS)
        return self.is_live and self.heartbeat_age > limit

    @property
    def shown_state(self) -> str:
        return NodeState.UNREACHABLE if self.looks_lost else self.state

    @property
    def busy(self) -> bool:
        return self.is_live and self.running > 0

    @property
    def docker_available(self) -> bool:
        return bool((self.backends.get("docker") or {}).get("available"))

    @property
    def sandbox_warning(self) -> str:
        """What to shout on the compute page when this node runs user code without a sandbox
        (or refuses to run it for lack of one); "" when it is sandboxed."""
        venv = self.backends.get("venv") or {}
        return "" if venv.get("sandboxed", True) else venv.get("sandbox", "")


class DispatchProbe(models.Model):
    """A no-op task sent to a target's queue to see which node picks it up and how fast
    ("Send a test task" on the compute page, and bench/dispatch.py)."""

    target = models.ForeignKey(ComputeTarget, on_delete=models.CASCADE, related_name="probes")
    sent_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True, help_text="From submission until a node started it")
    worker_name = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"probe {self.pk} to {self.target_id}"
