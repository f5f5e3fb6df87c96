"""Online and batch endpoints attacked as an anonymous caller, a member of another workspace, a
Reader, and with bad input: the scoring router, keys, traffic, scale, invoke. Fast: no instance
is started (an endpoint with no deployment is enough to reach every check before the forward)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from endpoints import keys, services
from endpoints.batch import services as batch_services
from endpoints.models import OnlineEndpoint
from studio.models import ActivityEvent
from tests.conftest import token_client

SCORE = "/endpoints/{ws}/{name}/score"
API = "/api/v1/workspaces/ws-main/online-endpoints/"
PAGE = "/w/ws-main/endpoints/"
BATCH = "/api/v1/workspaces/ws-main/batch-endpoints/"


@pytest.fixture
def endpoint(workspace, owner):
    return services.do_create_endpoint(workspace, {"name": "scorer", "auth_mode": "key"}, actor=owner)


@pytest.fixture
def other_endpoint(outsider):
    from studio.models import Workspace

    other = Workspace.objects.get(name="ws-other")
    return services.do_create_endpoint(other, {"name": "theirs", "auth_mode": "key"}, actor=outsider)


def score(client, ws="ws-main", name="scorer", key="", body=b"{}", **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.generic("POST", SCORE.format(ws=ws, name=name), body, "application/json", **headers, **extra)


@pytest.mark.django_db
def test_the_router_answers_strangers_and_wrong_keys_alike(client, endpoint, other_endpoint):
    mine, theirs = keys.read(endpoint)["primary"], keys.read(other_endpoint)["primary"]
    answers = [
        score(client),  # anonymous
        score(client, key="wrong"),
        score(client, key=theirs),  # another endpoint's key
        score(client, ws="ws-other", name="scorer", key=mine),  # my key through another workspace's URL
        score(client, name="missing", key=mine),
        score(client, key=mine + "x"),
        score(client, key="é" * 50),
    ]
    assert {a.status_code for a in answers} == {401}
    assert len({a.content for a in answers}) == 1, "a stranger learns no names from the answers"
    assert client.get(SCORE.format(ws="ws-main", name="scorer")).status_code == 405
    # the right key gets past authentication (no deployment takes traffic yet)
    assert score(client, key=mine).status_code == 503


@pytest.mark.django_db
def test_the_router_refuses_bad_bodies_and_headers_with_a_4xx(client, endpoint):
    key = keys.read(endpoint)["primary"]
    assert score(client, key=key, body=b"not json").status_code == 400
    assert score(client, key=key, body=b"\xff\xfe").status_code == 400
    too_big = score(client, key=key, CONTENT_LENGTH=str(settings.STUDIO_SCORE_MAX_BYTES + 1))
    assert too_big.status_code == 413
    for length in ("abc", "-5", "1e9", " "):
        answer = score(client, key=key, CONTENT_LENGTH=length)
        assert 400 <= answer.status_code < 500 or answer.status_code == 503, (length, answer.status_code)
    # a deployment header naming a deployment this endpoint does not have (of another endpoint or none)
    answer = score(client, key=key, HTTP_AZUREML_MODEL_DEPLOYMENT="theirs-blue")
    assert answer.status_code == 404 and b"scorer has no deployment named theirs-blue" in answer.content


@pytest.mark.django_db
def test_aml_token_endpoints_take_members_tokens_only(client, workspace, owner, members, outsider):
    from studio import services as studio_services

    services.do_create_endpoint(workspace, {"name": "tokened", "auth_mode": "aml_token"}, actor=owner)
    _, outsider_token = studio_services.do_create_token(user=outsider, name="t")
    _, reader_token = studio_services.do_create_token(user=members["reader"], name="t")
    assert score(client, name="tokened", key=outsider_token).status_code == 401
    assert score(client, name="tokened", key=reader_token).status_code == 503  # past authentication
    members["reader"].is_active = False
    members["reader"].save()
    assert score(client, name="tokened", key=reader_token).status_code == 401


@pytest.mark.django_db
def test_readers_and_outsiders_reach_no_write_action(client, endpoint, members, outsider):
    reader = token_client(members["reader"])
    assert reader.get(f"{API}scorer/").status_code == 200
    for answer in (
        reader.get(f"{API}scorer/keys/"),
        reader.post(f"{API}scorer/regenerate-keys/", {"key_type": "primary"}, format="json"),
        reader.patch(f"{API}scorer/", {"traffic": {}}, format="json"),
        reader.delete(f"{API}scorer/"),
        reader.post(f"{API}scorer/deployments/", {"name": "blue"}, format="json"),
        reader.put(f"{API}other/", {"auth_mode": "key"}, format="json"),
    ):
        assert answer.status_code == 403, answer.content
    stranger = token_client(outsider)
    for answer in (
        stranger.get(f"{API}scorer/"),
        stranger.get(f"{API}scorer/keys/"),
        stranger.post(f"{API}scorer/regenerate-keys/", {}, format="json"),
        stranger.delete(f"{API}scorer/"),
    ):
        assert answer.status_code == 404, answer.content
    before = endpoint.keys_encrypted
    client.force_login(members["reader"])
    for url, data in (
        (f"{PAGE}scorer/keys/", None),
        (f"{PAGE}scorer/keys/regenerate/", {"key_type": "primary"}),
        (f"{PAGE}scorer/traffic/", {}),
        (f"{PAGE}scorer/delete/", {}),
        (f"{PAGE}scorer/deployments/blue/scale/", {"instance_count": "8"}),
        (f"{PAGE}scorer/deployments/blue/delete/", {}),
        (f"{PAGE}new/", {"name": "probe-ep", "auth_mode": "key"}),
        (f"{PAGE}deploy/", {}),
    ):
        answer = client.get(url) if data is None else client.post(url, data)
        assert answer.status_code == 403, (url, answer.status_code)
    client.force_login(outsider)
    for url in (f"{PAGE}scorer/keys/", f"{PAGE}scorer/", f"{PAGE}scorer/consume/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{PAGE}scorer/keys/regenerate/", {"key_type": "primary"}).status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.keys_encrypted == before and OnlineEndpoint.objects.filter(name="scorer").exists()


@pytest.mark.django_db
def test_keys_appear_only_when_an_allowed_user_asks(client, endpoint, owner, members):
    services.do_regenerate_key(endpoint, "secondary", actor=owner)
    endpoint.refresh_from_db()
    found = keys.read(endpoint)
    secrets = [found["primary"].encode(), found["secondary"].encode()]
    client.force_login(owner)
    pages = [client.get(f"{PAGE}scorer/{tab}/").content for tab in ("deployments", "consume", "test", "logs")]
    pages += [client.get(PAGE).content, token_client(owner).get(f"{API}scorer/").content]
    pages += [token_client(members["reader"]).get("/api/v1/workspaces/ws-main/activity/").content]
    events = json.dumps(list(ActivityEvent.objects.values("verb", "target", "data"))).encode()
    for text in [*pages, events, endpoint.keys_encrypted.encode()]:
        assert not any(s in text for s in secrets)
    shown = client.get(f"{PAGE}scorer/keys/")
    assert shown.status_code == 200 and secrets[0] in shown.content and shown["Cache-Control"] == "no-store"


BAD_ENDPOINTS = [
    {"name": "../etc"},
    {"name": "a" * 5000},
    {"name": 7},
    {"auth_mode": "none"},
    {"auth_mode": ["key"]},
    {"traffic": {"blue": 100}},
    {"traffic": "blue=100"},
    {"traffic": {"blue": "100"}},
    {"tags": "x"},
]


@pytest.mark.django_db
def test_bad_endpoint_input_gets_a_clear_400(endpoint, owner):
    client = token_client(owner)
    for body in (b"not json", b"[1]", b'"text"', b"", b"null"):
        answer = client.generic("POST", API, body, content_type="application/json")
        assert answer.status_code == 400, (body, answer.status_code, answer.content)
    for change in BAD_ENDPOINTS:
        answer = client.post(API, {"name": "fresh-one", "auth_mode": "key"} | change, format="json")
        assert answer.status_code == 400, (change, answer.status_code, answer.content)
    for change in BAD_ENDPOINTS[3:]:
        answer = client.patch(f"{API}scorer/", change, format="json")
        assert answer.status_code == 400, (change, answer.status_code, answer.content)
    for key_type in ("tertiary", "", None, ["primary"], {"a": 1}):
        answer = client.post(f"{API}scorer/regenerate-keys/", {"key_type": key_type}, format="json")
        assert answer.status_code == 400, (key_type, answer.content)
    for body in (
        {"name": "blue"},
        {"name": "blue", "model": "azureml:nothing:1"},
        {"name": "blue", "model": 5},
        {"name": "blue", "model": "azureml:nothing:1", "instance_count": 10**9},
    ):
        answer = client.post(f"{API}scorer/deployments/", body, format="json")
        assert answer.status_code == 400, (body, answer.content)
    assert not OnlineEndpoint.objects.filter(name="fresh-one").exists()


@pytest.mark.django_db
def test_a_model_or_code_of_another_workspace_cannot_be_deployed(endpoint, owner, outsider):
    """ws-main's owner names the outsider's code snapshot and model; both are looked up in ws-main."""
    from jobs.code import snapshot_from_zip
    from studio.models import Workspace
    from tests.jobs.conftest import make_zip

    other = Workspace.objects.get(name="ws-other")
    snapshot = snapshot_from_zip(other, make_zip({"score.py": "def init(): pass\n"}), actor=outsider)
    client = token_client(owner)
    for code in (snapshot.pk, snapshot.hash):
        body = {
            "name": "blue",
            "model": "azureml:theirs:1",
            "environment": "azureml:plain:1",
            "code_configuration": {"code": code, "scoring_script": "score.py"},
        }
        answer = client.post(f"{API}scorer/deployments/", body, format="json")
        assert answer.status_code == 400, answer.content
    batch = token_client(outsider)
    assert batch.post(BATCH, {"name": "b-one"}, format="json").status_code == 404


@pytest.mark.django_db
def test_readers_cannot_invoke_or_change_batch_endpoints(workspace, owner, members, outsider):
    batch_services.do_create_batch_endpoint(workspace, {"name": "nightly"}, actor=owner)
    url = "/api/v1/workspaces/ws-main/batch-endpoints/nightly/"
    reader = token_client(members["reader"])
    assert reader.get(url).status_code == 200
    body = {"input": {"type": "uri_folder", "path": "azureml://datastores/workspaceblobstore/paths/x/"}}
    for answer in (
        reader.post(f"{url}invoke/", body, format="json"),
        reader.patch(url, {"description": "x"}, format="json"),
        reader.delete(url),
    ):
        assert answer.status_code == 403, answer.content
    assert token_client(outsider).post(f"{url}invoke/", body, format="json").status_code == 404
    owner_client = token_client(owner)
    for bad in ({"defaults": "blue"}, {"defaults": ["blue"]}, {"tags": "x"}, {"name": "../x"}):
        answer = owner_client.post(BATCH, {"name": "b-two"} | bad, format="json")
        assert answer.status_code == 400, (bad, answer.status_code, answer.content)
        answer = owner_client.patch(url, bad, format="json")
        assert answer.status_code == 400 or "name" in bad, (bad, answer.status_code, answer.content)
    scientist = token_client(members["data_scientist"])
    for bad in (b"not json", b"[]", b"{}"):
        answer = scientist.generic("POST", f"{url}invoke/", bad, content_type="application/json")
        assert answer.status_code == 400, (bad, answer.status_code, answer.content)
