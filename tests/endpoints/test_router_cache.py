"""The router's per-process cache, through the real ASGI app under uvicorn: changes made by
another process (rows updated without this process's signals) are picked up as documented, and
nothing is served from a deleted endpoint. No instances run here: routing stops at "no ready
instance" (503), which is enough to see who got through."""

from __future__ import annotations

import requests

from endpoints import keys, services
from endpoints.models import OnlineEndpoint
from studio import crypto


def _post(url, key):
    return requests.post(url, data="{}", headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})


def test_a_key_regenerated_by_another_process_works_at_once(asgi_server, workspace, owner, light):
    endpoint = services.do_create_endpoint(workspace, {"name": "cached-ep"}, actor=owner)
    services.do_create_deployment(endpoint, {"name": "blue", **light}, actor=owner)
    services.do_update_endpoint(endpoint, {"traffic": {"blue": 100}}, actor=owner)
    url = f"{asgi_server}/endpoints/{workspace.name}/cached-ep/score"
    old = keys.read(endpoint)["primary"]
    assert _post(url, old).status_code == 503  # authorised; nothing running yet
    # Another process regenerates the key: a plain UPDATE, no signal reaches this router.
    OnlineEndpoint.objects.filter(pk=endpoint.pk).update(
        keys_encrypted=crypto.encrypt_json({"primary": "new-primary-key-0123456789", "secondary": "s" * 40})
    )
    assert _post(url, "new-primary-key-0123456789").status_code == 503  # a miss reloads: the new key works
    assert _post(url, old).status_code == 401  # and the reload dropped the old one
    assert _post(url, "").status_code == 401


def test_a_deleted_endpoint_answers_401_like_an_unknown_one(asgi_server, workspace, owner, light):
    endpoint = services.do_create_endpoint(workspace, {"name": "doomed-ep"}, actor=owner)
    key = keys.read(endpoint)["primary"]
    url = f"{asgi_server}/endpoints/{workspace.name}/doomed-ep/score"
    assert _post(url, key).status_code == 503  # no traffic set
    services.do_delete_endpoint(endpoint, actor=owner)  # same process: the signal drops the cache
    gone = _post(url, key)
    assert gone.status_code == 401 and gone.json()["detail"].startswith("Missing or wrong key")
    # Oversized and non-JSON bodies are clear errors on the mounted path too.
    other = services.do_create_endpoint(workspace, {"name": "other-ep"}, actor=owner)
    other_url = f"{asgi_server}/endpoints/{workspace.name}/other-ep/score"
    auth = {"Authorization": f"Bearer {keys.read(other)['primary']}"}
    assert requests.post(other_url, data="{nope", headers=auth).status_code == 400
    big = requests.post(other_url, data=b"[" + b"0," * (6 * 1024 * 1024) + b"0]", headers=auth)
    assert big.status_code == 413
