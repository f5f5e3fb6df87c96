"""`studio datastore …` and `studio data …`: local files in a data YAML are uploaded with the
request, to workspaceblobstore/LocalUpload/<hash>/, as Azure ML does."""

from __future__ import annotations

import json

from datastores.models import DataVersion
from tests.cli.conftest import write

DIABETES = "age,bmi,target\n59,32.1,151\n48,21.6,75\n"


def test_datastore_create_from_yaml_list_and_show_without_credentials(cli, settings, tmp_path):
    folder = tmp_path / "nfs" / "ws-cli" / "shared"
    folder.mkdir(parents=True)
    settings.STUDIO_LOCAL_DATASTORE_ROOTS = [str(tmp_path / "nfs")]
    write(
        cli.cwd,
        "datastore.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/azureBlob.schema.json\n"
        f"name: team_share\ntype: local\npath: {folder}\ndescription: The team's NFS share\n"
        "properties: {owner: ml}\n",
    )

    created = cli("datastore", "create", "--file", "datastore.yml", "-o", "json")
    listed = cli("datastore", "list")
    shown = json.loads(cli("datastore", "show", "team_share", "-o", "json").out)

    assert created.code == 0, created
    assert json.loads(created.out)["name"] == "team_share"
    assert "team_share" in listed.out and "workspaceblobstore" in listed.out
    assert shown["path"] == str(folder)
    assert "credentials" not in shown


def test_datastore_errors_are_the_servers_message(cli):
    write(cli.cwd, "bad.yml", "name: x\ntype: local\npath: /nowhere\n")

    result = cli("datastore", "create", "--file", "bad.yml")

    assert result.code == 1
    assert result.err.startswith("error: path: Local datastores of workspace ws-cli must be inside a folder")


def test_data_create_uploads_a_local_file_relative_to_the_yaml(cli):
    write(cli.cwd, "assets/data/diabetes.csv", DIABETES)
    write(
        cli.cwd,
        "assets/data.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json\n"
        "name: diabetes\nversion: 1\ntype: uri_file\npath: ./data/diabetes.csv\ndescription: Diabetes\n",
    )

    result = cli("data", "create", "--file", "assets/data.yml", "-o", "json")

    assert result.code == 0, result
    body = json.loads(result.out)
    assert body["version"] == "1"
    assert body["path"].startswith("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    assert body["path"].endswith("/diabetes.csv")
    assert "Uploading" in result.err
    version = DataVersion.objects.get(asset__name="diabetes")
    assert version.size_bytes == len(DIABETES)


def test_data_create_uploads_a_folder_minus_ignored_files_and_numbers_versions(cli):
    write(cli.cwd, "folder/a.csv", "a\n1\n")
    write(cli.cwd, "folder/sub/b.csv", "b\n2\n")
    write(cli.cwd, "folder/.amlignore", "*.tmp\n")
    write(cli.cwd, "folder/scratch.tmp", "x")
    write(cli.cwd, "data.yml", "name: tables\ntype: uri_folder\npath: folder\n")

    first = cli("data", "create", "-f", "data.yml", "-o", "json")
    second = cli("data", "create", "-f", "data.yml", "--set", "description=again", "-o", "json")

    assert first.code == 0, first
    assert second.code == 0, second
    assert [json.loads(r.out)["version"] for r in (first, second)] == ["1", "2"]
    assert json.loads(second.out)["path"] == json.loads(first.out)["path"]  # same content, same folder
    assert DataVersion.objects.get(asset__name="tables", version="1").file_count == 3  # .amlignore itself is sent


def test_data_show_list_and_references(cli):
    write(cli.cwd, "d.csv", DIABETES)
    write(cli.cwd, "data.yml", "name: diabetes\ntype: uri_file\npath: d.csv\n")
    cli("data", "create", "-f", "data.yml")
    uri = json.loads(cli("data", "show", "diabetes", "-o", "json").out)["path"]
    write(cli.cwd, "remote.yml", f"name: diabetes\ntype: uri_file\npath: {uri}\ndescription: by reference\n")

    remote = cli("data", "create", "-f", "remote.yml", "-o", "json")
    latest = json.loads(cli("data", "show", "azureml:diabetes@latest", "-o", "json").out)
    first = json.loads(cli("data", "show", "diabetes:1", "-o", "json").out)
    by_option = json.loads(cli("data", "show", "--name", "diabetes", "--version", "1", "-o", "json").out)
    listed = cli("data", "list")
    versions = json.loads(cli("data", "list", "--name", "diabetes", "-o", "json").out)

    assert remote.code == 0, remote
    assert latest["version"] == "2" and latest["description"] == "by reference"
    assert first["version"] == by_option["version"] == "1"
    assert "diabetes" in listed.out and "uri_file" in listed.out
    assert sorted(v["version"] for v in versions) == ["1", "2"]
    assert cli("data", "archive", "diabetes:1").code == 0
    assert DataVersion.objects.get(asset__name="diabetes", version="1").archived


def test_an_unknown_data_asset_is_one_line(cli):
    result = cli("data", "show", "nothing")

    assert result.code == 1
    assert result.err.startswith("error: ") and len(result.err.strip().splitlines()) == 1


def test_a_typo_in_a_datastore_file_is_refused_with_its_line_from_the_servers_schema(cli):
    from datastores.models import Datastore

    write(cli.cwd, "ds.yml", "name: share\ntype: local\npaht: /srv/share\n")

    result = cli("datastore", "create", "--file", "ds.yml")

    assert result.code == 1, result
    assert "ds.yml, line 3: unknown key 'paht'. Did you mean 'path'?" in result.err
    assert not Datastore.objects.filter(name="share").exists()
