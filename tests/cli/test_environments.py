"""`studio environment …`: YAML files with a conda file or a Docker build context."""

from __future__ import annotations

import json

from environments.models import EnvironmentVersion
from tests.cli.conftest import write

CONDA = """name: sklearn-env
channels: [conda-forge]
dependencies:
  - python=3.11
  - pip
  - pip:
      - scikit-learn==1.5.2
      - mlflow-skinny
"""


def test_environment_create_reads_the_conda_file_next_to_the_yaml(cli):
    write(cli.cwd, "envs/conda.yml", CONDA)
    write(
        cli.cwd,
        "envs/env.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
        "name: sklearn-env\n"
        "image: python:3.11-slim\n"
        "conda_file: ./conda.yml\n"
        "description: Scikit-learn training\n"
        "tags: {team: ml}\n",
    )

    result = cli("environment", "create", "--file", "envs/env.yml", "-o", "json")

    assert result.code == 0, result
    body = json.loads(result.out)
    assert body["version"] == "1"
    assert body["reference"] == "azureml:sklearn-env:1"
    assert body["spec_hash"]
    version = EnvironmentVersion.objects.get(environment__name="sklearn-env")
    assert version.conda_file.strip() == CONDA.strip()
    assert version.image == "python:3.11-slim"


def test_environment_versions_list_show_and_archive(cli):
    write(cli.cwd, "conda.yml", CONDA)
    write(cli.cwd, "env.yml", "name: sk\nimage: python:3.11-slim\nconda_file: conda.yml\n")
    assert cli("environment", "create", "-f", "env.yml").code == 0
    assert cli("environment", "create", "-f", "env.yml", "--set", "description=second").code == 0

    listed = cli("environment", "list", "--curated", "false")
    latest = json.loads(cli("environment", "show", "azureml:sk@latest", "-o", "json").out)
    first = json.loads(cli("environment", "show", "sk", "--version", "1", "-o", "json").out)
    archived = cli("environment", "archive", "--name", "sk", "--version", "1")
    versions = json.loads(cli("environment", "list", "--name", "sk", "-o", "json").out)

    assert listed.code == 0, listed
    assert "sk " in listed.out and "python:3.11-slim" in listed.out
    assert latest["version"] == "2" and latest["description"] == "second"
    assert first["version"] == "1"
    assert archived.code == 0, archived
    assert "Archived sk:1" in archived.err
    assert [v["version"] for v in versions] == ["2"]


def test_environment_create_uploads_a_docker_build_context(cli):
    write(cli.cwd, "docker-context/Dockerfile", "FROM python:3.11-slim\nCOPY requirements.txt /tmp/\n")
    write(cli.cwd, "docker-context/requirements.txt", "numpy\n")
    write(cli.cwd, "docker-context/.gitignore", "*.bin\n")
    write(cli.cwd, "docker-context/weights.bin", "x" * 100)
    write(cli.cwd, "env.yml", "name: custom-docker\nbuild:\n  path: ./docker-context\n  dockerfile_path: Dockerfile\n")

    result = cli("environment", "create", "--file", "env.yml", "-o", "json")

    assert result.code == 0, result
    files = sorted(f["path"] for f in json.loads(result.out)["build"]["files"])
    assert files == [".gitignore", "Dockerfile", "requirements.txt"]
    assert "Uploading build context" in result.err


def test_environment_errors_come_back_as_the_servers_message(cli):
    write(cli.cwd, "env.yml", "name: Studio-mine\nimage: python:3.11-slim\n")

    result = cli("environment", "create", "--file", "env.yml")

    assert result.code == 1
    assert result.err.startswith("error: ") and "Studio-" in result.err
    assert len(result.err.strip().splitlines()) == 1
