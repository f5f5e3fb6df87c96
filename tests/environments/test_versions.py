"""Versions: numbering, immutability, archiving, `@latest`, references, and the curated catalog."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from environments import curated
from environments.models import Environment
from environments.resolve import resolve_environment
from tests.conftest import token_client
from tests.environments.helpers import create

pytestmark = pytest.mark.django_db

IMAGE = {"image": "studio/base:bookworm"}


def test_versions_number_themselves_after_the_highest_integer(workspace, owner):
    assert create(workspace, owner, {"name": "e"} | IMAGE).version == "1"
    assert create(workspace, owner, {"name": "e", "version": "7"} | IMAGE).version == "7"
    assert create(workspace, owner, {"name": "e", "version": "2024.01"} | IMAGE).version == "2024.01"
    assert create(workspace, owner, {"name": "e"} | IMAGE).version == "8"


def test_latest_skips_archived_versions_but_an_explicit_version_still_resolves(workspace, owner):
    from environments import services

    one = create(workspace, owner, {"name": "e"} | IMAGE)
    two = create(workspace, owner, {"name": "e", "description": "second"} | IMAGE)
    assert resolve_environment(workspace, "e@latest").pk == two.pk
    assert resolve_environment(workspace, "azureml:e:1").pk == one.pk
    assert resolve_environment(workspace, "e").pk == two.pk
    services.do_archive_environment_version(two, actor=owner, workspace=workspace)
    assert resolve_environment(workspace, "azureml:e@latest").pk == one.pk
    assert resolve_environment(workspace, "e:2").pk == two.pk
    services.do_archive_environment_version(one, actor=owner, workspace=workspace)
    with pytest.raises(ValidationError, match="archived"):
        resolve_environment(workspace, "e@latest")


@pytest.mark.parametrize(
    ("ref", "words"), [("nope:1", "No environment named 'nope'"), ("e:9", "has no version '9'"), ("e::1", "not a ref")]
)
def test_bad_references_say_what_is_wrong(workspace, owner, ref, words):
    create(workspace, owner, {"name": "e"} | IMAGE)
    with pytest.raises(ValidationError, match=words):
        resolve_environment(workspace, ref)


def test_environments_of_another_workspace_do_not_resolve(workspace, owner, outsider):
    other = outsider.memberships.get().workspace
    create(other, outsider, {"name": "theirs"} | IMAGE)
    with pytest.raises(ValidationError):
        resolve_environment(workspace, "theirs@latest")


def test_the_curated_catalog_is_loaded_and_resolves_in_every_workspace(workspace, outsider):
    names = set(Environment.objects.filter(workspace__isnull=True).values_list("name", flat=True))
    assert {
        "Studio-minimal-py311",
        "Studio-sklearn-1.9",
        "Studio-pytorch-2.13-cpu",
        "Studio-lightgbm-xgboost",
        "Studio-data-prep",
    } <= names
    other = outsider.memberships.get().workspace
    for ws in (workspace, other):
        version = resolve_environment(ws, "azureml:Studio-sklearn-1.9@latest")
        assert version.environment.curated and version.tags["Framework"] == "scikit-learn"
    sklearn = resolve_environment(workspace, "Studio-sklearn-1.9:1")
    assert "scikit-learn=1.9" in sklearn.conda_file
    assert all(v.description and {"Framework", "Python", "OS", "Compute"} <= set(v.tags) for v in _curated())


def _curated():
    return [env.versions.first() for env in Environment.objects.filter(workspace__isnull=True)]


def test_loading_the_catalog_again_changes_nothing(workspace):
    before = list(Environment.objects.filter(workspace__isnull=True).values_list("versions__spec_hash", flat=True))
    assert curated.sync() == []
    after = list(Environment.objects.filter(workspace__isnull=True).values_list("versions__spec_hash", flat=True))
    assert before == after


def test_a_changed_curated_file_becomes_a_new_version(tmp_path, workspace):
    (tmp_path / "x.yml").write_text("name: Studio-test\ndescription: one\nimage: studio/base:bookworm\n")
    assert curated.sync(tmp_path) == ["added Studio-test:1"]
    (tmp_path / "x.yml").write_text("name: Studio-test\ndescription: two\nimage: studio/base:bookworm\n")
    assert curated.sync(tmp_path) == ["updated the description of Studio-test:1"]
    (tmp_path / "x.yml").write_text("name: Studio-test\ndescription: two\nimage: python:3.12-slim\n")
    assert curated.sync(tmp_path) == ["added Studio-test:2"]


def test_curated_environments_are_read_only_through_the_api(workspace, owner):
    api = token_client(owner)
    base = "/api/v1/workspaces/ws-main/environments/Studio-sklearn-1.9/versions/"
    assert api.get(base).status_code == 200
    new = api.post(base, {"image": "studio/base:bookworm"}, format="json")
    assert new.status_code == 400 and "reserved" in new.json()["errors"]["name"][0]
    archive = api.delete(base + "1/")
    assert archive.status_code == 403 and "read-only" in archive.json()["detail"]


def test_versions_are_listed_newest_first_and_latest_is_an_address(workspace, owner):
    api = token_client(owner)
    for _ in range(3):
        create(workspace, owner, {"name": "e"} | IMAGE)
    listing = api.get("/api/v1/workspaces/ws-main/environments/e/versions/").json()
    assert [v["version"] for v in listing["results"]] == ["3", "2", "1"]
    assert api.get("/api/v1/workspaces/ws-main/environments/e/versions/latest/").json()["version"] == "3"
    assert api.delete("/api/v1/workspaces/ws-main/environments/e/versions/3/").json()["archived"] is True
    assert api.get("/api/v1/workspaces/ws-main/environments/e/versions/latest/").json()["version"] == "2"
    assert [v["version"] for v in api.get("/api/v1/workspaces/ws-main/environments/e/versions/").json()["results"]] == [
        "2",
        "1",
    ]
    restored = api.post("/api/v1/workspaces/ws-main/environments/e/versions/3/restore/")
    assert restored.json()["archived"] is False


def test_the_list_filters_by_curated_name_and_tag(workspace, owner):
    api = token_client(owner)
    create(workspace, owner, {"name": "vision-env", "tags": {"team": "vision"}} | IMAGE)
    create(workspace, owner, {"name": "nlp-env", "tags": {"team": "nlp"}} | IMAGE)
    url = "/api/v1/workspaces/ws-main/environments/"

    def names(**params):
        return sorted(r["name"] for r in api.get(url, params).json()["results"])

    assert names(curated="false") == ["nlp-env", "vision-env"]
    assert "Studio-sklearn-1.9" in names(curated="true") and "vision-env" not in names(curated="true")
    assert names(curated="false", q="vis") == ["vision-env"]
    assert names(tag="team=nlp") == ["nlp-env"]
    assert names(tag="Framework=scikit-learn") == ["Studio-sklearn-1.9", "Studio-sklearn-1.9-inference"]
    row = api.get(url, {"q": "vision"}).json()["results"][0]
    assert row["latest_version"] == "1" and row["builds"] == {"venv": "", "docker": ""}


def test_a_stored_version_cannot_be_changed(workspace, owner):
    version = create(workspace, owner, {"name": "e"} | IMAGE)
    version.image = "python:3.12-slim"
    with pytest.raises(ValueError, match="immutable"):
        version.save()
    with pytest.raises(ValueError, match="immutable"):
        version.save(update_fields=["image"])
    version.refresh_from_db()
    assert version.image == "studio/base:bookworm"


def test_builds_left_running_by_a_dead_worker_are_failed_with_the_reason(workspace, owner):
    from datetime import timedelta

    from django.utils import timezone

    from environments import tasks
    from environments.models import BuildStatus, EnvironmentBuild
    from studio import logs

    version = create(workspace, owner, {"name": "e"} | IMAGE)
    old = timezone.now() - timedelta(days=1)
    stale = EnvironmentBuild.objects.create(
        version=version, backend="venv", spec_hash=version.spec_hash, status=BuildStatus.RUNNING, started_at=old
    )
    fresh = EnvironmentBuild.objects.create(
        version=version,
        backend="docker",
        spec_hash=version.spec_hash,
        status=BuildStatus.RUNNING,
        started_at=timezone.now(),
    )
    assert tasks.reap_stale_builds() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == BuildStatus.FAILED and "worker" in stale.error
    assert "stopped before it finished" in logs.read_all(stale.log_stream)
    assert fresh.status == BuildStatus.RUNNING
