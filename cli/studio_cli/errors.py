"""Errors the command line reports as one line on stderr, with a non-zero exit code."""

from __future__ import annotations


class CLIError(Exception):
    """Something the user can fix; `main` prints `error: <message>` and exits with `exit_code`."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class SpecError(CLIError):
    """A YAML file that cannot be used: bad syntax, unknown keys, missing local paths."""


class NotLoggedIn(CLIError):
    exit_code = 3


class ApiError(CLIError):
    """The server said no. `detail` is the server's one-line message; `errors` its field messages."""

    def __init__(self, status: int, detail: str, errors: dict | None = None):
        self.status = status
        self.detail = detail
        self.errors = errors or {}
        super().__init__(self.one_line(), exit_code=3 if status == 401 else 1)

    def one_line(self) -> str:
        messages = [f"{field}: {m}" for field, msgs in self.errors.items() for m in _as_list(msgs)]
        if len(messages) > 1:
            return "; ".join(messages)
        return self.detail


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]
