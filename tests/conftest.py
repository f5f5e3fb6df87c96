"""Shared fixtures: an owner, one member per built-in role, an outsider, API clients."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from studio import services
from tests.factories import PASSWORD, UserFactory, add_member, make_workspace

IN_CI = os.environ.get("CI", "").lower() == "true"
ROLES = ["owner", "contributor", "reader", "data_scientist", "compute_operator"]


def require(available: bool, what: str) -> None:
    """Skip a test whose outside dependency is missing, except in CI, where that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available here")


def pytest_sessionstart(session):
    if IN_CI and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise pytest.UsageError("CI runs the tests on PostgreSQL: set DATABASE_URL")


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "ws-main", description="The main workspace")


@pytest.fixture
def members(workspace, owner):
    """role slug -> a user holding that role in `workspace` (the owner is 'owner')."""
    users = {"owner": owner}
    for slug in ROLES[1:]:
        user = UserFactory(username=slug.replace("_", "") + "_user")
        add_member(workspace, user, slug, actor=owner)
        users[slug] = user
    return users


@pytest.fixture
def outsider(db):
    """A user with a workspace of their own, and no membership of `workspace`."""
    user = UserFactory(username="oscar")
    make_workspace(user, "ws-other")
    return user


@pytest.fixture
def api():
    return APIClient()


def token_client(user) -> APIClient:
    _, raw = services.do_create_token(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def job_token_client(job) -> APIClient:
    """An API client authenticated as the job itself (its MLflow token)."""
    from jobs.tracking import issue_job_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_job_token(job)}")
    return client


@pytest.fixture
def login(client):
    def _login(user):
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return _login
