"""Run the real `studio` command line as a subprocess against pytest-django's live server, with
its config file in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.factories import PASSWORD, UserFactory, make_workspace
from tests.jobs.conftest import no_dispatch, node  # noqa: F401 - fixtures reused: jobs run on an in-process node


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:  # shown when an assertion on a result fails
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


CLI_SOURCE = Path(__file__).resolve().parents[2] / "cli"


class Studio:
    """`studio(...)` runs `python -m studio_cli ...` with HOME and XDG_CONFIG_HOME in tmp."""

    def __init__(self, url: str, home: Path, cwd: Path):
        self.url = url
        self.home = home
        self.cwd = cwd
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("STUDIO_") and k not in ("XDG_CONFIG_HOME",)
        }
        self.env |= {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "COLUMNS": "200"}
        # This checkout's command line, whichever copy the virtualenv has installed.
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CLI_SOURCE), os.environ.get("PYTHONPATH")]))

    @property
    def config_file(self) -> Path:
        return self.home / ".config" / "studio" / "config.yaml"

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "studio_cli", *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env=self.env | (env or {}),
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def login(self, username: str, password: str = PASSWORD) -> Result:
        result = self("login", "--url", self.url, "--username", username, "--password-stdin", input=password + "\n")
        assert result.code == 0, result
        return result


@pytest.fixture
def studio(live_server, tmp_path) -> Studio:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    return Studio(live_server.url, home, work)


@pytest.fixture
def alice(transactional_db):
    return UserFactory(username="alice")


@pytest.fixture
def alice_workspace(alice):
    return make_workspace(alice, "ws-cli", description="Alice's workspace")


@pytest.fixture
def cli(studio, alice, alice_workspace) -> Studio:
    """`studio`, logged in as alice, whose only workspace ws-cli is the default."""
    studio.login("alice")
    return studio


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
