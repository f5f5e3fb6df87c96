"""What every command needs: the parsed arguments, the config, a logged-in client, the workspace."""

from __future__ import annotations

import argparse
from functools import cached_property

from studio_cli.client import Client, q
from studio_cli.config import Config


class Context:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.config = Config.load()

    @cached_property
    def client(self) -> Client:
        url, token = self.config.require_login()
        return Client(url, token)

    @property
    def output(self) -> str:
        return getattr(self.args, "output", None) or "table"

    @cached_property
    def workspace(self) -> str:
        return self.config.require_workspace(getattr(self.args, "workspace", None))

    def ws_path(self, *parts: str | int) -> str:
        """`workspaces/<ws>/<parts…>/` with each part quoted."""
        return "/".join(["workspaces", q(self.workspace), *(q(p) for p in parts)]) + "/"

    def page_url(self, *parts: str) -> str:
        """A browser link under the workspace: `<url>/w/<ws>/<parts…>/`."""
        return "/".join([self.client.url, "w", q(self.workspace), *(q(p) for p in parts)]) + "/"
