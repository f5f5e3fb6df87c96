"""`studio compute …` with Azure ML CLI v2 compute YAML files."""

from __future__ import annotations

import json

from compute.models import ComputeTarget
from tests.cli.conftest import write


def test_compute_create_a_cluster_from_azure_yaml_reports_ignored_keys(cli):
    write(
        cli.cwd,
        "cluster.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
        "name: cpu-cluster\n"
        "type: amlcompute\n"
        "size: Standard_DS3_v2\n"
        "min_instances: 0\n"
        "max_instances: 2\n"
        "idle_time_before_scale_down: 120\n"
        "location: westeurope\n",
    )

    result = cli("compute", "create", "--file", "cluster.yml", "-o", "json")

    assert result.code == 0, result
    body = json.loads(result.out)
    assert (body["name"], body["type"], body["max_instances"]) == ("cpu-cluster", "cluster", 2)
    assert "note: cluster.yml, line 8: 'location' is accepted but ignored by Studio." in result.err
    assert ComputeTarget.objects.get(name="cpu-cluster").workspace.name == "ws-cli"


def test_compute_list_show_and_delete(cli):
    write(cli.cwd, "docker.yml", "name: box\ntype: docker\ndescription: The Docker engine here\n")
    assert cli("compute", "create", "-f", "docker.yml").code == 0

    listed = cli("compute", "list")
    shown = json.loads(cli("compute", "show", "box", "-o", "json").out)
    deleted = cli("compute", "delete", "--name", "box", "--yes")

    assert listed.code == 0, listed
    assert "box" in listed.out and "local" in listed.out
    assert shown["description"] == "The Docker engine here"
    assert deleted.code == 0, deleted
    assert not ComputeTarget.objects.filter(name="box").exists()


def test_compute_start_and_stop_an_instance(cli):
    write(cli.cwd, "instance.yml", "name: my-ci\ntype: computeinstance\nsize: Standard_DS3_v2\n")
    assert cli("compute", "create", "-f", "instance.yml").code == 0

    stopped = cli("compute", "stop", "my-ci")
    started = cli("compute", "start", "my-ci", "-o", "json")

    assert stopped.code == 0, stopped
    assert stopped.err.startswith("my-ci: Stopped")
    assert started.code == 0, started
    assert json.loads(started.out)["state"] in ("Starting", "Running")


def test_compute_errors_are_one_line_from_the_server(cli):
    stopped_local = cli("compute", "stop", "local")
    deleted_local = cli("compute", "delete", "local", "--yes")
    write(cli.cwd, "bad.yml", "name: c1\ntype: docker\nmax_instances: 3\n")
    misplaced = cli("compute", "create", "-f", "bad.yml")

    for result in (stopped_local, deleted_local, misplaced):
        assert result.code == 1, result
        assert result.err.startswith("error: ") and len(result.err.strip().splitlines()) == 1
    assert "The built-in local target cannot be deleted." in deleted_local.err
    assert "max_instances" in misplaced.err


def test_compute_update_changes_instances_idle_time_description_and_tags(cli):
    write(cli.cwd, "cluster.yml", "name: cpu\ntype: amlcompute\nmax_instances: 1\ntags:\n  team: vision\n")
    assert cli("compute", "create", "-f", "cluster.yml").code == 0

    updated = cli(
        "compute",
        "update",
        "--name",
        "cpu",
        "--min-instances",
        "1",
        "--max-instances",
        "3",
        "--idle-time-before-scale-down",
        "60",
        "--description",
        "Three nodes at most",
        "--tags",
        "owner=rita",
        "-o",
        "json",
    )
    nothing = cli("compute", "update", "cpu")
    too_few = cli("compute", "update", "cpu", "--max-instances", "0", "--min-instances", "2")

    assert updated.code == 0, updated
    target = ComputeTarget.objects.get(name="cpu")
    assert (target.min_instances, target.max_instances, target.idle_time_before_scale_down) == (1, 3, 60)
    assert target.description == "Three nodes at most"
    assert target.tags == {"team": "vision", "owner": "rita"}
    assert json.loads(updated.out)["max_instances"] == 3
    assert nothing.code == 1 and "Nothing to change" in nothing.err
    assert too_few.code == 1 and too_few.err.startswith("error: ")
