"""Deploy from the browser: the Deploy form's fields become the same managedOnlineEndpoint and
managedOnlineDeployment mappings the REST API and the CLI send, and go through the same services
in one transaction (a failed deployment leaves no half-made endpoint behind)."""

from __future__ import annotations

from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from endpoints import services
from endpoints.models import OnlineDeployment, OnlineEndpoint
from jobs import services as jobs_services
from jobs.models import CodeSnapshot


def code_from_upload(
    workspace, *, actor, upload: UploadedFile | None = None, folder: list[tuple[str, IO[bytes]]] | None = None
) -> tuple[CodeSnapshot | None, str]:
    """A code snapshot from the Deploy form: a `.py` scoring script (the snapshot holds just it),
    a `.zip` of the code folder, or a picked folder's files (relative path, file). Returns the
    snapshot (None when nothing was uploaded) and, for a lone script, its path in the snapshot."""
    if folder:
        return jobs_services.do_create_code_snapshot(workspace, actor=actor, files=folder), ""
    if upload is None:
        return None, ""  # no script: only an MLflow model deploys so (the services say so otherwise)
    if (upload.name or "").lower().endswith(".zip"):
        return jobs_services.do_create_code_snapshot(workspace, actor=actor, zip_file=upload), ""
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not name.endswith(".py"):
        raise ValidationError({"code": ["Upload a .py scoring script or a .zip of the code folder."]})
    snapshot = jobs_services.do_create_code_snapshot(workspace, actor=actor, files=[(name, upload)])
    return snapshot, name


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
