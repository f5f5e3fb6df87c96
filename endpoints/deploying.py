"""Deploy from the browser: the Deploy form's fields become the same managedOnlineEndpoint and
managedOnlineDeployment mappings the REST API and the CLI send, and go through the same services
in one transaction (a failed deployment leaves no half-made endpoint behind)."""

from __future__ import annotations

from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction

from endpoints import services
from endpoints.models import OnlineDeployment, OnlineEndpoint
from jobs.code import snapshot_from_files, snapshot_from_zip
from jobs.models import CodeSnapshot


def code_from_upload(workspace, upload: IO[bytes], filename: str, *, actor) -> tuple[CodeSnapshot, str]:
    """A code snapshot from a `.py` scoring script (the snapshot holds just it) or a `.zip` of the
    code folder; returns the snapshot and, for a script, its path in the snapshot."""
    if filename.lower().endswith(".zip"):
        return snapshot_from_zip(workspace, upload, actor=actor), ""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if not name.endswith(".py"):
        raise ValidationError({"code": ["Upload a .py scoring script or a .zip of the code folder."]})
    return snapshot_from_files(workspace, [(name, upload)], actor=actor, strip_top=False), name


@transaction.atomic
def deploy(
    workspace,
    *,
    endpoint: OnlineEndpoint | None,
    new_endpoint: dict | None,
    deployment: dict,
    actor,
) -> OnlineDeployment:
    """Create the endpoint if asked (`new_endpoint`), then the deployment. An endpoint that sends
    no traffic anywhere yet sends all of it to the new deployment; otherwise the split stays as it
    is and the new deployment starts at 0% (move it on the Deployments tab)."""
    if endpoint is None:
        endpoint = services.do_create_endpoint(workspace, new_endpoint or {}, actor=actor)
    created = services.do_create_deployment(endpoint, deployment, actor=actor)
    endpoint.refresh_from_db()
    if sum(endpoint.traffic.values()) == 0:
        services.do_update_endpoint(endpoint, {"traffic": {**endpoint.traffic, created.name: 100}}, actor=actor)
    return created
