"""`studio login` / `studio logout`: get a personal token with username + password (HTTP Basic)
once, keep it in the config file (mode 0600)."""

from __future__ import annotations

import getpass
import os
import socket
import sys

from studio_cli.client import Client
from studio_cli.commands import add_command
from studio_cli.config import Config
from studio_cli.context import Context
from studio_cli.errors import ApiError, CLIError
from studio_cli.output import info


def register(groups, common) -> None:
    login = add_command(groups, "login", cmd_login, common, "Log in to a Studio server and store a personal token.")
    login.add_argument("--url", help="the server, e.g. http://studio.example.com:8000 (default: the last one)")
    login.add_argument("-u", "--username", help="asked for when not given")
    login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    login.add_argument("--token", help="use this personal token instead of a password (or set STUDIO_TOKEN)")
    add_command(groups, "logout", cmd_logout, common, "Revoke the stored token and forget it.")


def _read_password(args) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
    if not password:
        raise CLIError("No password given.")
    return password


def _read_username(args) -> str:
    if args.username:
        return args.username
    sys.stderr.write("Username: ")
    sys.stderr.flush()
    username = sys.stdin.readline().strip()
    if not username:
        raise CLIError("No username given.")
    return username


def cmd_login(ctx: Context) -> int:
    args = ctx.args
    stored = Config.load(with_env=False)
    url = (args.url or os.environ.get("STUDIO_URL") or stored.url or "").rstrip("/")
    if not url:
        raise CLIError("Which server? Pass --url http://<host>:8000.")
    if "://" not in url:
        url = f"http://{url}"
    token = args.token or os.environ.get("STUDIO_TOKEN")
    if token:
        Client(url, token).get("tokens/")  # check it works (the API has no "who am I" endpoint)
        token_id, username = None, None
    else:
        username = _read_username(args)
        password = _read_password(args)
        basic = Client(url, auth=(username, password))
        try:
            answer = basic.post("tokens/", json={"name": f"studio-cli on {socket.gethostname()}"[:100]})
        except ApiError as exc:
            if exc.status in (401, 403):
                raise CLIError(f"Login to {url} failed: wrong username or password.", exit_code=3)
            raise
        token, token_id = answer["token"], answer.get("id")
    if stored.token and stored.token_id and stored.url == url and stored.username == username:
        _revoke(Client(url, token), stored.token_id)
    config = Config(url=url, token=token, token_id=token_id, username=username, workspace=stored.workspace)
    if stored.url != url:
        config.workspace = None
    if not config.workspace:
        workspaces = Client(url, token).list_all("workspaces/", limit=2)
        if len(workspaces) == 1:
            config.workspace = workspaces[0]["name"]
    path = config.save()
    who = f"as {username}" if username else "with the given token"
    info(f"Logged in to {url} {who}. Token stored in {path}.")
    if config.workspace:
        info(f"Default workspace: {config.workspace}")
    else:
        info("Choose a default workspace with `studio workspace set-default NAME` (see `studio workspace list`).")
    return 0


def _revoke(client: Client, token_id: int) -> None:
    """Revoke the token this CLI stored before; one already gone is fine."""
    try:
        client.delete(f"tokens/{token_id}/")
    except ApiError as exc:
        if exc.status != 404:
            info(f"note: could not revoke the previous token ({exc}).")


def cmd_logout(ctx: Context) -> int:
    stored = Config.load(with_env=False)
    if stored.token and stored.url:
        if stored.token_id:
            try:
                _revoke(Client(stored.url, stored.token), stored.token_id)
            except CLIError as exc:  # the server is unreachable or the token already invalid
                info(f"note: the token was not revoked on the server ({exc}).")
        stored.token = stored.token_id = None
        stored.save()
    info("Logged out.")
    return 0
