"""What every backend builds from and gives back. Backends know nothing of Django models: the
environments app turns an environment version into a `BuildSpec`, a backend materialises it
(a virtualenv, a Docker image) and answers with a `BuildOutput` or raises `BuildError`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.conf import settings

from studio.text import strip_ansi

LogFn = Callable[[str], None]

# The variables a build may be steered by (index URLs, resolver options). They enter the spec
# hash; every other environment variable of an environment applies to the running job only.
BUILD_VARIABLE = re.compile(r"^(PIP|UV)_[A-Z0-9_]+$")


@dataclass(frozen=True)
class BuildSpec:
    """One environment definition, ready to build.

    `requirements` are pip requirement lines (conda packages already translated to PyPI names,
    options such as `--extra-index-url` kept as lines). `context_dir` is a Docker build context
    (docker backend only); `image` is the base image of a conda/pip environment, or the whole
    environment when nothing is to be installed.
    """

    spec_hash: str
    image: str = ""
    requirements: tuple[str, ...] = ()
    python: str | None = None  # "3.11": the conda file's python= pin
    context_dir: Path | None = None
    dockerfile_path: str = "Dockerfile"
    build_env: dict[str, str] = field(default_factory=dict)
    user_managed: bool = False
    interpreter_path: str = ""
    label: str = ""  # "env-a:3", for log lines only


@dataclass
class BuildOutput:
    """What a build produced; enough for a job to run in it."""

    python: str = ""  # interpreter path (venv), or the interpreter inside the image (docker)
    image: str = ""  # image tag (docker)
    resolved_packages: list[str] = field(default_factory=list)
    base_image_id: str = ""
    location: str = ""  # the venv folder or the image tag: what must still exist for a cache hit
    notes: list[str] = field(default_factory=list)


class BuildError(Exception):
    """A build that failed for a reason the user can act on. `line` is the one line worth showing
    at the top of the page (e.g. "No matching distribution found for scikit-lern")."""

    def __init__(self, message: str, line: str = ""):
        super().__init__(message)
        self.line = line or message


class Backend(Protocol):
    kind: str
    product: str  # what a build leaves behind, for messages: "venv", "image"

    def available(self) -> tuple[bool, str]: ...

    def build(self, spec: BuildSpec, log: LogFn, *, nocache: bool = False) -> BuildOutput: ...

    def exists(self, output_location: str) -> bool: ...


# What a build inherits from the worker's environment: where programs are, the locale, proxies.
# Nothing else: the worker's variables hold Studio's secrets (STUDIO_SECRET_KEY, DATABASE_URL).
INHERITED = re.compile(r"^(PATH|LANG|LC_[A-Z]+|TZ|(?i:https?_proxy|no_proxy|all_proxy)|DOCKER_HOST)$")


def build_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a build process: a clean one (the worker's path, locale and proxies
    only), plus uv's settings, the CA bundle this network needs and the environment's own
    build variables."""
    env = {k: v for k, v in os.environ.items() if INHERITED.match(k)}
    env |= {
        "HOME": tempfile.gettempdir(),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_COMPILE_BYTECODE": "1",
        "UV_CACHE_DIR": str(settings.STUDIO_UV_CACHE),
        "UV_NO_PROGRESS": "1",
        "NO_COLOR": "1",
    }
    if settings.STUDIO_CA_BUNDLE:
        env |= {"SSL_CERT_FILE": settings.STUDIO_CA_BUNDLE, "PIP_CERT": settings.STUDIO_CA_BUNDLE}
    env |= extra or {}
    return env


def uv_binary() -> str:
    """The uv that ships in Studio's own virtualenv (a PyPI package, so every install has it)."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("uv")
    if found:
        return found
    raise BuildError("uv is not installed next to Studio's Python; install the requirements again.")


# Lines that say why a build failed, best first. The first match (searched from the end of the
# log) becomes the build's headline.
_FAILURE_PATTERNS: list[tuple[re.Pattern[str], str | None]] = [
    (re.compile(r"No matching distribution found for (\S+)"), "No matching distribution found for {0}"),
    (
        re.compile(r"Because (\S+?) was not found in the package registry"),
        "No matching distribution found for {0} (it is not in the package registry)",
    ),
    (re.compile(r"Because there is no version of (\S+?==?\S+?) "), "No matching distribution found for {0}"),
    (re.compile(r"Because (.+?) (?:depends on|you require)(.+?)we can conclude.*unsatisfiable"), None),
    (re.compile(r"^\s*(?:ERROR|error|E):\s*(.+)$"), None),
    (re.compile(r"^\s*×\s*(.+)$"), None),
    (re.compile(r"The command '.+' returned a non-zero code: \d+"), None),
]


# uv and pip follow an error with the chain of its causes ("  cause: …", "Caused by: …"); the last
# one is the root ("invalid peer certificate: UnknownIssuer" under "Failed to fetch …").
_CAUSE = re.compile(r"^(?:Caused by|cause):\s*(.+)$", re.I)


def _root_cause(lines: list[str], at: int) -> str:
    """The last cause line right after line `at` ("" when it has none)."""
    cause = ""
    for line in lines[at + 1 :]:
        match = _CAUSE.match(line)
        if not match:
            break
        cause = match[1]
    return cause


def failing_line(lines: Iterable[str]) -> str:
    """The most telling line of a failed build log ("" when none stands out), with its root cause
    when the tool printed one. Colour codes (Docker paints a RUN step's stderr red) are dropped
    first, so the patterns see the text."""
    lines = [strip_ansi(line).strip().lstrip("╰─▶").strip() for line in lines if line.strip()]
    for pattern, template in _FAILURE_PATTERNS:
        for at in range(len(lines) - 1, -1, -1):
            match = pattern.search(lines[at])
            if match:
                headline = template.format(*match.groups()) if template else lines[at]
                cause = _root_cause(lines, at)
                if cause and cause not in headline:
                    headline = f"{headline} (cause: {cause})"
                return headline[:500]
    return ""


def stream_command(
    cmd: list[str], log: LogFn, *, env: dict[str, str], timeout: float, cwd: str | None = None
) -> list[str]:
    """Run `cmd`, passing each output line to `log` as it is printed; returns all lines. A
    non-zero exit raises BuildError with the telling line; the process group is killed on
    timeout or on any error, so nothing outlives the build."""
    lines: list[str] = []
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=True,
    )
    timed_out = threading.Event()

    def _kill() -> None:
        timed_out.set()
        _killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, _kill)
    timer.start()
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            log(line)
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            _killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    shown = cmd[cmd.index("--") + 1 :] if Path(cmd[0]).name == "bwrap" and "--" in cmd else cmd  # the sandboxed one
    if timed_out.is_set():
        raise BuildError(f"{Path(shown[0]).name} did not finish within {int(timeout)} s and was stopped.")
    if proc.returncode != 0:
        headline = failing_line(lines) or (
            f"{Path(shown[0]).name} {shown[1] if len(shown) > 1 else ''} exited with {proc.returncode}"
        )
        raise BuildError(
            f"{' '.join([Path(shown[0]).name, *shown[1:3]])} exited with status {proc.returncode}", headline
        )
    return lines


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
