"""Helpers of the endpoint tests."""

from __future__ import annotations

import time

from endpoints import instances
from endpoints.models import DeploymentInstance, InstanceStatus


def wait_ready(deployment_names, timeout=120):
    """Reconcile until every named deployment has exactly its ready instance(s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        instances.reconcile()
        states = DeploymentInstance.objects.filter(deployment__name__in=deployment_names)
        if states.count() == len(deployment_names) and all(i.status == InstanceStatus.READY for i in states):
            return
        time.sleep(0.5)
    details = list(DeploymentInstance.objects.values_list("status", "detail"))
    raise AssertionError(f"instances not ready: {details}")
