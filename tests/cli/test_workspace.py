"""`studio workspace list|show|create|set-default` and the -o formats."""

from __future__ import annotations

import json

import yaml

from studio.models import Workspace
from tests.cli.conftest import write
from tests.factories import UserFactory, make_workspace


def test_workspace_list_is_a_readable_table_marking_the_default(cli):
    result = cli("workspace", "list")

    assert result.code == 0, result
    header, row = result.out.splitlines()[:2]
    assert "Name" in header and "Role" in header
    assert row.split()[:3] == ["*", "ws-cli", "owner"]


def test_workspace_list_as_json_and_yaml(cli):
    as_json = json.loads(cli("workspace", "list", "-o", "json").out)
    as_yaml = yaml.safe_load(cli("-o", "yaml", "workspace", "list").out)

    assert [w["name"] for w in as_json] == ["ws-cli"]
    assert as_yaml == as_json


def test_workspace_show_defaults_to_the_default_workspace(cli):
    result = cli("workspace", "show", "-o", "json")

    assert result.code == 0, result
    assert json.loads(result.out)["description"] == "Alice's workspace"
    assert "Alice's workspace" in cli("workspace", "show", "ws-cli").out


def test_workspace_create_with_options_and_from_a_file(cli, alice):
    assert cli("workspace", "create", "--name", "ws-two", "--description", "Second", "--tags", "team=ml").code == 0
    write(
        cli.cwd,
        "ws.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/workspace.schema.json\n"
        "name: ws-three\ndescription: From a file\n",
    )
    result = cli("workspace", "create", "--file", "ws.yml", "-o", "json")

    assert result.code == 0, result
    assert json.loads(result.out)["role"] == "owner"
    assert Workspace.objects.get(name="ws-two").tags == {"team": "ml"}
    assert Workspace.objects.get(name="ws-three").created_by == alice


def test_a_duplicate_workspace_name_fails_with_the_servers_message(cli):
    result = cli("workspace", "create", "--name", "ws-cli")

    assert result.code == 1
    assert result.err.startswith("error: ")
    assert len(result.err.strip().splitlines()) == 1
    assert "ws-cli" in result.err or "exists" in result.err


def test_set_default_changes_the_workspace_used_without_w(cli, alice):
    make_workspace(alice, "ws-other")

    assert cli("workspace", "set-default", "ws-other").code == 0
    assert json.loads(cli("workspace", "show", "-o", "json").out)["name"] == "ws-other"
    assert json.loads(cli("workspace", "show", "-w", "ws-cli", "-o", "json").out)["name"] == "ws-cli"


def test_another_users_workspace_is_not_found(cli):
    make_workspace(UserFactory(username="bob"), "ws-bob")

    result = cli("workspace", "set-default", "ws-bob")

    assert result.code == 1
    assert result.err.startswith("error: ")
    assert "ws-bob" not in cli.config_file.read_text()
