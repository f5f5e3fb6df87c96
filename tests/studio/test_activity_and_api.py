"""The activity log's filters (page and API share them), API error shape, OpenAPI."""

from studio import activity
from tests.conftest import token_client


def test_activity_filters_by_kind_and_person(workspace, members):
    api = token_client(members["reader"])
    everything = api.get("/api/v1/workspaces/ws-main/activity/").json()["results"]
    assert {e["verb"] for e in everything} == {"workspace.created", "member.added"}
    by_kind = api.get("/api/v1/workspaces/ws-main/activity/?category=member").json()["results"]
    assert len(by_kind) == 4 and all(e["verb"] == "member.added" for e in by_kind)
    by_target = api.get("/api/v1/workspaces/ws-main/activity/?q=reader").json()["results"]
    assert [e["target"] for e in by_target] == ["reader_user"]
    assert by_target[0]["message"] == "added reader_user as Reader"
    nobody = api.get("/api/v1/workspaces/ws-main/activity/?actor=reader_user").json()["results"]
    assert nobody == []


def test_activity_page_shows_events_and_filters_as_a_partial(workspace, members, client):
    client.force_login(members["reader"])
    page = client.get("/w/ws-main/activity/").content.decode()
    assert "added compute_operator_user as Compute Operator" in page.replace(
        "computeoperator_user", "compute_operator_user"
    )
    partial = client.get(
        "/w/ws-main/activity/?category=workspace", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="activity-rows"
    ).content.decode()
    assert "created the workspace" in partial and "added" not in partial and "<html" not in partial


def test_unknown_verbs_still_read_as_words(workspace, owner):
    event = activity.record(workspace, owner, "thing.happened", "x1", detail="y")
    assert event.message == "thing happened x1"


def test_errors_are_json_with_detail_and_field_errors(workspace, owner):
    api = token_client(owner)
    response = api.post("/api/v1/workspaces/", {"name": "!"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"} and "name" in body["errors"]
    assert api.get("/api/v1/workspaces/nope/").json() == {
        "detail": "No Workspace matches the given query.",
        "errors": {},
    }


def test_openapi_schema_and_docs_are_served(workspace, owner, client):
    client.force_login(owner)
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/workspaces/{workspace}/members/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert client.get("/api/docs/").status_code == 200
