"""The user's settings file: server URL, personal token, default workspace.

Lives at `$STUDIO_CONFIG_DIR/config.yaml`, else `$XDG_CONFIG_HOME/studio/config.yaml`, else
`~/.config/studio/config.yaml`; written with mode 0600 because it holds a token. The environment
variables `STUDIO_URL`, `STUDIO_TOKEN` and `STUDIO_WORKSPACE` win over the file (for CI scripts).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from studio_cli.errors import CLIError, NotLoggedIn


def config_path() -> Path:
    if explicit := os.environ.get("STUDIO_CONFIG_DIR"):
        return Path(explicit) / "config.yaml"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "studio" / "config.yaml"


@dataclass
class Config:
    url: str | None = None
    token: str | None = None
    token_id: int | None = None
    username: str | None = None
    workspace: str | None = None

    @classmethod
    def load(cls, *, with_env: bool = True) -> Config:
        path = config_path()
        data: dict = {}
        if path.exists():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise CLIError(f"{path}: not a valid config file ({exc}). Delete it and run `studio login`.")
            if not isinstance(data, dict):
                raise CLIError(f"{path}: not a valid config file. Delete it and run `studio login`.")
        config = cls(**{k: data.get(k) for k in cls.__dataclass_fields__})
        if with_env:
            config.url = os.environ.get("STUDIO_URL") or config.url
            config.token = os.environ.get("STUDIO_TOKEN") or config.token
            config.workspace = os.environ.get("STUDIO_WORKSPACE") or config.workspace
        return config

    def save(self) -> Path:
        """Write the file readable by its owner only (the token is a password)."""
        path = config_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {k: v for k, v in asdict(self).items() if v is not None}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(data, fh, sort_keys=False)
        os.chmod(path, 0o600)  # the file may have existed with wider permissions
        return path

    def require_login(self) -> tuple[str, str]:
        if not self.url or not self.token:
            raise NotLoggedIn("Not logged in. Run `studio login --url http://<host>:8000` first.")
        return self.url, self.token

    def require_workspace(self, override: str | None) -> str:
        workspace = override or self.workspace
        if not workspace:
            raise CLIError("No workspace given. Pass -w/--workspace NAME or run `studio workspace set-default NAME`.")
        return workspace
