"""`studio login`: HTTP Basic once, a personal token kept in a 0600 config file."""

from __future__ import annotations

import stat
import subprocess
import sys

import yaml

from studio.models import AccessToken
from tests.factories import PASSWORD


def test_the_package_imports_no_django():
    code = "import sys, studio_cli.main; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_login_stores_a_personal_token_in_a_private_config_file(studio, alice, alice_workspace):
    result = studio("login", "--url", studio.url, "--username", "alice", "--password-stdin", input=PASSWORD + "\n")

    assert result.code == 0, result
    assert f"Logged in to {studio.url} as alice" in result.err
    assert stat.S_IMODE(studio.config_file.stat().st_mode) == 0o600
    config = yaml.safe_load(studio.config_file.read_text())
    assert config["url"] == studio.url
    assert config["workspace"] == "ws-cli"  # the only workspace becomes the default
    token = AccessToken.objects.get(user=alice)
    assert config["token_id"] == token.pk
    assert PASSWORD not in studio.config_file.read_text()


def test_login_reads_username_and_password_from_stdin_when_not_a_terminal(studio, alice):
    result = studio("login", "--url", studio.url, input=f"alice\n{PASSWORD}\n")

    assert result.code == 0, result
    assert studio("workspace", "list").code == 0


def test_a_wrong_password_is_one_clear_line_and_stores_nothing(studio, alice):
    result = studio("login", "--url", studio.url, "-u", "alice", "--password-stdin", input="nope\n")

    assert result.code != 0
    assert result.err.strip() == f"error: Login to {studio.url} failed: wrong username or password."
    assert not studio.config_file.exists()


def test_login_again_replaces_the_previous_token(cli, alice):
    first = AccessToken.objects.get(user=alice)
    cli.login("alice")

    first.refresh_from_db()
    assert first.state == "revoked"
    assert AccessToken.objects.filter(user=alice).count() == 2


def test_login_with_a_token_from_the_environment(studio, alice, alice_workspace):
    from studio import services

    _, raw = services.do_create_token(user=alice, name="ci")
    result = studio("login", "--url", studio.url, env={"STUDIO_TOKEN": raw})

    assert result.code == 0, result
    assert yaml.safe_load(studio.config_file.read_text())["token"] == raw


def test_an_expired_token_says_to_log_in_again(cli, alice):
    from django.utils import timezone

    AccessToken.objects.filter(user=alice).update(expires_at=timezone.now())

    result = cli("workspace", "list")

    assert result.code == 3
    assert "This token is expired" in result.err
    assert f"Run `studio login --url {cli.url}` to log in again." in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_token_revoked_in_the_browser_says_to_log_in_again(cli, alice):
    from studio import services

    services.do_revoke_token(AccessToken.objects.get(user=alice))

    result = cli("workspace", "show")

    assert result.code == 3
    assert result.err.startswith("error: This token is revoked.")
    assert "studio login" in result.err


def test_logout_revokes_the_token_and_forgets_it(cli, alice):
    assert cli("logout").code == 0
    assert AccessToken.objects.get(user=alice).state == "revoked"

    result = cli("workspace", "list")

    assert result.code == 3
    assert "Not logged in. Run `studio login" in result.err


def test_commands_before_login_say_how_to_log_in(studio):
    result = studio("job", "list", "-w", "x")

    assert result.code == 3
    assert result.err.strip() == "error: Not logged in. Run `studio login --url http://<host>:8000` first."


def test_an_unreachable_server_is_one_line(studio, alice):
    result = studio("login", "--url", "http://127.0.0.1:9", "-u", "alice", "--password-stdin", input="x\n")

    assert result.code == 1
    assert result.err.strip() == "error: Cannot reach http://127.0.0.1:9: Connection refused"


def test_login_on_a_terminal_prompts_and_does_not_echo_the_password(studio, alice):
    import os
    import select
    import time

    main_fd, tty_fd = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio_cli", "login", "--url", studio.url],
        stdin=tty_fd,
        stdout=tty_fd,
        stderr=tty_fd,
        env=studio.env,
        cwd=studio.cwd,
        start_new_session=True,
    )
    os.close(tty_fd)
    seen = b""

    def read_until(marker: bytes, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            if select.select([main_fd], [], [], 0.2)[0]:
                try:
                    seen += os.read(main_fd, 4096)
                except OSError:  # the terminal closed: the process ended
                    return

    read_until(b"Username:")
    os.write(main_fd, b"alice\n")
    read_until(b"Password:")
    os.write(main_fd, PASSWORD.encode() + b"\n")
    read_until(b"Default workspace")
    assert proc.wait(timeout=30) == 0, seen.decode(errors="replace")
    os.close(main_fd)

    assert b"Logged in to" in seen
    assert PASSWORD.encode() not in seen
