"""The scoring URI, `/endpoints/<ws>/<name>/score`: authenticate the caller (endpoint key, or a
member's API token for `aml_token` endpoints), pick a deployment by the traffic split (or the
`azureml-model-deployment` header), and forward the request to one of its ready instances.

One pooled HTTP session per process keeps connections to instances open between requests."""

from __future__ import annotations

import json
import random

import requests
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from endpoints import keys
from endpoints.models import AuthMode, DeploymentInstance, InstanceStatus, OnlineEndpoint
from studio.models import AccessToken, hash_token
from studio.permissions import VIEW, can

_session = requests.Session()
_session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=32, pool_maxsize=64))
DEPLOYMENT_HEADER = "HTTP_AZUREML_MODEL_DEPLOYMENT"


def _error(status: int, detail: str, **extra) -> JsonResponse:
    response = JsonResponse({"detail": detail, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def _bearer(request) -> str:
    kind, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" else ""


def _authorised(endpoint: OnlineEndpoint, presented: str) -> bool:
    if endpoint.auth_mode == AuthMode.KEY:
        return keys.matches(endpoint, presented)
    token = AccessToken.objects.select_related("user").filter(key_hash=hash_token(presented)).first()
    return bool(
        token and token.state == "active" and token.user.is_active and can(token.user, endpoint.workspace, VIEW)
    )


def pick_deployment(traffic: dict[str, int], rng: random.Random = random._inst) -> str | None:  # type: ignore[attr-defined]
    names = [name for name, share in traffic.items() if share > 0]
    if not names:
        return None
    return rng.choices(names, weights=[traffic[n] for n in names])[0]


@csrf_exempt
@require_POST
def score(request, workspace: str, name: str):
    endpoint = OnlineEndpoint.objects.select_related("workspace").filter(workspace__name=workspace, name=name).first()
    presented = _bearer(request)
    # The same answer for a missing endpoint and a wrong key: a stranger learns no names.
    if endpoint is None or not _authorised(endpoint, presented):
        return _error(401, "Missing or wrong key: send Authorization: Bearer <endpoint key>.")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    if length < 0:
        return _error(400, "The Content-Length header is not a whole number of bytes.")
    if length > settings.STUDIO_SCORE_MAX_BYTES:
        return _error(413, f"The request body is larger than {settings.STUDIO_SCORE_MAX_BYTES} bytes.")
    body = request.body
    try:
        json.loads(body or b"null")
    except ValueError:
        return _error(400, "The request body is not JSON.", errors={"body": ["Send a JSON document."]})
    chosen = request.META.get(DEPLOYMENT_HEADER, "").strip()
    if chosen:
        if not endpoint.deployments.filter(name=chosen).exists():
            return _error(404, f"{endpoint.name} has no deployment named {chosen}.")
    else:
        chosen = pick_deployment(endpoint.traffic)
        if chosen is None:
            return _error(503, f"{endpoint.name} sends no traffic to any deployment: set its traffic.")
    ports = list(
        DeploymentInstance.objects.filter(
            deployment__endpoint=endpoint, deployment__name=chosen, status=InstanceStatus.READY
        ).values_list("port", flat=True)
    )
    if not ports:
        return _error(503, f"The deployment {chosen} has no ready instance yet.")
    try:
        answer = _session.post(
            f"http://127.0.0.1:{random.choice(ports)}/score",
            data=body,
            headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
            timeout=settings.STUDIO_SCORE_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        return _error(502, f"The deployment {chosen} did not answer: {type(exc).__name__}.")
    response = HttpResponse(answer.content, status=answer.status_code, content_type=answer.headers.get("Content-Type"))
    response["azureml-model-deployment"] = chosen
    return response
