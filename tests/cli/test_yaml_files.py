"""Azure ML CLI v2 YAML files: syntax errors and unknown keys are reported with file and line,
before anything is sent to the server."""

from __future__ import annotations

import os
import zipfile

import pytest
from studio_cli.packaging import zip_folder

from tests.cli.conftest import write


@pytest.mark.parametrize(
    ("group", "name", "text", "error"),
    [
        pytest.param(
            "job",
            "job.yml",
            "command: python train.py\nenvironment: azureml:sklearn@latest\n  compute: local\n",
            "job.yml, line 3, column 10: mapping values are not allowed here",
            id="bad-yaml-names-the-file-line-and-column",
        ),
        pytest.param(
            "environment",
            "env.yml",
            "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
            "name: sklearn\n"
            "image: python:3.11-slim\n"
            "conda_flie: conda.yml\n",
            "env.yml, line 4: unknown key 'conda_flie'. Did you mean 'conda_file'?",
            id="unknown-key-names-the-file-and-line-and-suggests-the-right-one",
        ),
        pytest.param(
            "job",
            "sub/job.yml",
            "command: python train.py --lr ${{inputs.lr}}\n"
            "environment: azureml:sklearn:1\n"
            "inputs:\n"
            "  lr:\n"
            "    type: number\n"
            "    defualt: 0.1\n",
            "sub/job.yml, line 6: unknown key 'defualt' in inputs.lr. Did you mean 'default'?",
            id="unknown-key-inside-an-input-is-reported-with-its-line",
        ),
        pytest.param(
            "compute",
            "compute.yml",
            "name: cpu\ntype: docker\nname: gpu\n",
            "compute.yml, line 3, column 1: duplicate key 'name' (first on line 1)",
            id="duplicate-key-is-an-error-with-both-lines",
        ),
    ],
)
def test_a_bad_file_is_one_error_line_with_file_and_line(cli, group, name, text, error):
    write(cli.cwd, name, text)

    result = cli(group, "create", "--file", name)

    assert result.code == 1
    assert result.err.strip() == f"error: {error}"


def test_a_missing_local_file_is_reported_relative_to_the_yaml(cli):
    write(cli.cwd, "envs/env.yml", "name: e\nimage: python:3.11-slim\nconda_file: ./conda.yml\n")

    result = cli("environment", "create", "--file", "envs/env.yml")

    assert result.code == 1
    assert "envs/env.yml, line 3: conda_file './conda.yml': no such file or folder" in result.err
    assert str(cli.cwd / "envs" / "conda.yml") in result.err


def test_a_missing_file_is_one_line(cli):
    result = cli("job", "create", "--file", "nope.yml")

    assert result.err.strip() == "error: nope.yml: no such file."


def test_only_command_sweep_and_pipeline_jobs_are_accepted(cli):
    write(cli.cwd, "automl.yml", "type: automl\ncommand: x\n")
    write(cli.cwd, "pipeline.yml", "type: pipeline\ncommand: x\n")

    result = cli("job", "create", "--file", "automl.yml")
    assert (
        "automl.yml, line 1: Studio runs command, sweep and pipeline jobs; type 'automl' is not supported."
        in result.err
    )
    result = cli("job", "create", "--file", "pipeline.yml")
    assert "pipeline.yml, line 2: unknown key 'command'" in result.err


def test_code_is_zipped_without_what_amlignore_and_gitignore_exclude(tmp_path):
    src = tmp_path / "src"
    write(src, "train.py", "print('hi')\n")
    write(src, ".amlignore", "data/\n*.log\n")
    write(src, ".gitignore", "train.py\n")  # .amlignore wins over .gitignore in the same folder
    write(src, "data/big.csv", "x\n")
    write(src, "run.log", "x\n")
    write(src, "pkg/util.py", "x = 1\n")
    write(src, "pkg/.gitignore", "secret.txt\n")
    write(src, "pkg/secret.txt", "s\n")
    write(src, "__pycache__/train.cpython-311.pyc", "x")
    write(src, ".git/HEAD", "ref\n")

    packed = zip_folder(src, tmp_path / "code.zip")

    names = sorted(zipfile.ZipFile(packed.path).namelist())
    assert names == [".amlignore", ".gitignore", "pkg/.gitignore", "pkg/util.py", "train.py"]


def test_zips_of_the_same_files_are_identical(tmp_path):
    write(tmp_path / "src", "a.py", "a\n")
    first = zip_folder(tmp_path / "src", tmp_path / "1.zip").path.read_bytes()
    os.utime(tmp_path / "src" / "a.py", (1_000_000_000, 1_000_000_000))  # a different mtime, years apart
    assert zip_folder(tmp_path / "src", tmp_path / "2.zip").path.read_bytes() == first


def test_a_link_to_a_file_outside_the_code_folder_is_not_uploaded(tmp_path):
    """A link committed to a shared repository (`creds -> ~/.ssh/id_rsa`) uploaded the submitter's
    own file into a code snapshot that every member of the workspace can read."""
    from studio_cli.errors import SpecError

    private = tmp_path / "home" / "id_rsa"
    write(tmp_path / "home", "id_rsa", "PRIVATE KEY\n")
    src = tmp_path / "src"
    write(src, "train.py", "print('hi')\n")
    write(src, "docs/README.md", "read me\n")
    (src / "README.md").symlink_to("docs/README.md")  # a link inside the folder is fine
    (src / "creds").symlink_to(private)

    with pytest.raises(SpecError, match="outside"):
        zip_folder(src, tmp_path / "code.zip")

    write(src, ".amlignore", "creds\n")  # an ignored link is never read
    packed = zip_folder(src, tmp_path / "code.zip")
    archive = zipfile.ZipFile(packed.path)
    assert sorted(archive.namelist()) == [".amlignore", "README.md", "docs/README.md", "train.py"]
    assert b"PRIVATE" not in packed.path.read_bytes()
