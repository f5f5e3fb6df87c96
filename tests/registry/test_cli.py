"""`studio model list|show|create|download|archive` as a subprocess against a live server."""

from __future__ import annotations

import json

from jobs import services as job_services
from registry import services
from tests.cli.conftest import alice, alice_workspace, cli, studio, write  # noqa: F401 - fixtures
from tests.jobs.conftest import make_environment
from tests.registry.conftest import finish_job, write_mlflow_model


def test_create_from_a_local_folder_show_list_download_and_archive(cli, alice, alice_workspace, tmp_path):  # noqa: F811
    write_mlflow_model(cli.cwd / "assets" / "model")
    write(cli.cwd, "assets/model/.amlignore", "*.tmp\n")
    write(cli.cwd, "assets/model/scratch.tmp", "x")
    write(
        cli.cwd,
        "assets/model.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
        "name: iris\ntype: mlflow_model\npath: ./model\ndescription: Iris classifier\ntags: {team: vision}\n",
    )

    created = cli("model", "create", "--file", "assets/model.yml", "-o", "json")
    assert created.code == 0, created
    body = json.loads(created.out)
    assert (body["name"], body["version"], body["type"]) == ("iris", "1", "mlflow_model")
    assert body["flavors"] == ["python_function", "sklearn"] and body["tags"] == {"team": "vision"}
    assert cli("model", "create", "-f", "assets/model.yml", "--set", "description=again").code == 0

    services.do_set_alias(services.resolve(alice_workspace, "iris:1"), "champion", actor=alice)
    listed = cli("model", "list")
    assert "iris" in listed.out and "mlflow_model" in listed.out, listed
    assert [v["version"] for v in json.loads(cli("model", "list", "-n", "iris", "-o", "json").out)] == ["2", "1"]
    assert json.loads(cli("model", "show", "iris@champion", "-o", "json").out)["version"] == "1"
    assert json.loads(cli("model", "show", "azureml:iris@latest", "-o", "json").out)["version"] == "2"
    assert json.loads(cli("model", "show", "iris", "--version", "1", "-o", "json").out)["aliases"] == ["champion"]

    downloaded = cli("model", "download", "iris:1", "--download-path", str(tmp_path / "dl"))
    assert downloaded.code == 0, downloaded
    got = sorted(p.relative_to(tmp_path / "dl" / "iris").as_posix() for p in (tmp_path / "dl" / "iris").rglob("*"))
    assert "MLmodel" in got and "model.pkl" in got and "scratch.tmp" not in got
    assert (tmp_path / "dl" / "iris" / "model.pkl").read_bytes() == (cli.cwd / "assets/model/model.pkl").read_bytes()

    assert cli("model", "archive", "iris:2").code == 0
    assert json.loads(cli("model", "show", "iris", "-o", "json").out)["version"] == "1"


def test_create_from_a_run_records_the_job(cli, alice, alice_workspace, tmp_path, no_dispatch):  # noqa: F811
    make_environment(alice_workspace, alice, "plain")
    job = job_services.do_submit_job(
        alice_workspace, actor=alice, data={"command": "python train.py", "environment": "plain:1"}
    )
    write_mlflow_model(tmp_path / "out" / "model", run_id=job.name)
    finish_job(job, tmp_path / "out")
    write(cli.cwd, "model.yml", f"name: from-run\npath: runs:/{job.name}/outputs/model\n")
    created = cli("model", "create", "-f", "model.yml", "-o", "json")
    assert created.code == 0, created
    assert json.loads(created.out)["job"] == job.name


def test_errors_name_the_file_and_line(cli, alice_workspace):  # noqa: F811
    write(cli.cwd, "typo.yml", "name: m\ntype: mlflow_model\nflavour: sklearn\npath: ./x\n")
    typo = cli("model", "create", "-f", "typo.yml")
    assert typo.code == 1 and "typo.yml, line 3" in typo.err and "flavour" in typo.err, typo

    write(cli.cwd, "missing.yml", "name: m\npath: azureml://datastores/workspaceblobstore/paths/nothing/\n")
    missing = cli("model", "create", "-f", "missing.yml")
    assert missing.code == 1 and "missing.yml, line 2: path:" in missing.err and "does not exist" in missing.err, (
        missing
    )

    write(cli.cwd, "local.yml", "name: m\npath: ./not-here\n")
    local = cli("model", "create", "-f", "local.yml")
    assert local.code == 1 and "local.yml, line 2" in local.err and "no such file" in local.err, local

    write(cli.cwd, "w/weights.bin", "w")
    write(cli.cwd, "typed.yml", "name: m\nversion: 1\ntype: onnx_model\npath: ./w\n")
    typed = cli("model", "create", "-f", "typed.yml")
    assert typed.code == 1 and "typed.yml, line 3: type:" in typed.err, typed

    write(cli.cwd, "ok.yml", "name: m\nversion: 1\npath: ./w\n")
    assert cli("model", "create", "-f", "ok.yml").code == 0
    clash = cli("model", "create", "-f", "ok.yml")
    assert clash.code == 1 and "m:1 already exists" in clash.err, clash
    unknown = cli("model", "show", "nope")
    assert unknown.code == 1 and unknown.err.count("\n") == 1, unknown
    assert cli("model", "show", "m@nobody").code == 1
