"""The sandbox: the one way user code is started on a node.

Every process that runs code a workspace member wrote or chose (a job's command, later an
environment build's install step or a scoring server) is started through `wrap()`. On this
backend (a process on the worker's host) that is bubblewrap:

- an unprivileged uid/gid (65534, "nobody") in its own user namespace, every capability dropped;
- its own PID namespace (the worker and other jobs are invisible; when the command's first
  process ends, the kernel kills everything left, so `setsid cmd &` cannot outlive the job) and
  `--die-with-parent` (a dead worker takes the sandbox with it);
- a filesystem of its own: the read-only system (/usr and the /bin, /lib links, /sys), the few
  files of /etc that name resolution, TLS and user lookup need, a fresh /proc, a minimal /dev
  (plus GPUs), a private /tmp, the environment (venv and its base interpreter) read-only, and the job's own folder
  writable. Nothing of STUDIO_DATA_DIR (database, secret key, other jobs, artifacts, datastores,
  the uv cache), no settings file, no Docker socket;
- the environment the caller passes, nothing more (the runner builds a clean one).

The network is shared (jobs download data and talk to Studio's tracking endpoint), so services
on loopback must require passwords; docs/security.md says what that means.

Where bubblewrap cannot work (not installed, or no user namespaces), `status()` says why, and
`wrap()` refuses unless STUDIO_ALLOW_UNSANDBOXED is set; then the command runs as it is, and the
compute page and every job's system log say so.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

SANDBOX_UID = 65534  # "nobody": owns nothing on the host

# What of /etc a job needs: name resolution, TLS roots, user and group names, the linker cache,
# Debian's alternatives (links under /usr/bin point into it), time zone and MIME types. Not
# /etc as a whole: it holds shadow files and service passwords.
ETC_FILES = (
    "resolv.conf",
    "hosts",
    "host.conf",
    "nsswitch.conf",
    "gai.conf",
    "services",
    "protocols",
    "passwd",
    "group",
    "ssl",
    "ca-certificates",
    "pki",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "localtime",
    "timezone",
    "mime.types",
    "os-release",
)
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


class SandboxUnavailable(Exception):
    """No sandbox here and running without one is not allowed."""


@dataclass(frozen=True)
class Status:
    """What this node can do. `sandboxed` False with `allowed` True means user code runs
    unsandboxed because STUDIO_ALLOW_UNSANDBOXED says it may."""

    sandboxed: bool
    allowed: bool
    detail: str  # "bubblewrap 0.8.0", or why there is no sandbox

    @property
    def headline(self) -> str:
        if self.sandboxed:
            return f"Sandbox: {self.detail} (uid {SANDBOX_UID}, own PID namespace, read-only system and environment)"
        if self.allowed:
            return (
                f"WARNING: user code runs UNSANDBOXED on this node ({self.detail}); it can read Studio's data "
                "and settings. STUDIO_ALLOW_UNSANDBOXED=true allows this: do it only on a single-user machine."
            )
        return (
            f"No sandbox on this node ({self.detail}), so it runs no user code. Install bubblewrap with user "
            "namespaces enabled, or set STUDIO_ALLOW_UNSANDBOXED=true on a single-user machine."
        )


def bwrap_binary() -> str | None:
    return shutil.which(settings.STUDIO_BWRAP)


@functools.lru_cache(maxsize=4)
def _probe(binary: str | None) -> tuple[bool, str]:
    if not binary:
        return False, f"bubblewrap ({settings.STUDIO_BWRAP}) is not installed"
    argv = [binary, *_base_args(), "--", "/bin/true"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"bubblewrap does not run: {exc}"
    if out.returncode != 0:
        return False, f"bubblewrap cannot create a sandbox here (user namespaces off?): {out.stderr.strip()[:300]}"
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    return True, version or "bubblewrap"


def status() -> Status:
    """Whether user code on this node runs sandboxed (probed once per process)."""
    ok, detail = _probe(bwrap_binary())
    return Status(sandboxed=ok, allowed=ok or settings.STUDIO_ALLOW_UNSANDBOXED, detail=detail)


def _base_args() -> list[str]:
    args = [
        "--unshare-user",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "studio-sandbox",
        "--die-with-parent",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for path in SYSTEM_LINKS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--dir", "/run"]
    # Read-only, as in a container: CPU topology and GPU drivers are found there. The kernel's
    # tunables too: a worker running as root maps the job's uid to root, and root may write
    # sysctls (kernel.core_pattern runs a program as root on the host) and sysrq.
    args += ["--ro-bind-try", "/sys", "/sys", "--ro-bind", "/proc/sys", "/proc/sys"]
    args += ["--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for device in sorted(glob.glob("/dev/nvidia*")):  # GPUs stay usable, as they are to containers
        args += ["--dev-bind", device, device]
    return args


def python_paths(python: str | os.PathLike) -> list[Path]:
    """What must be visible (read-only) for `python` to run: its venv (if it is one) and the base
    interpreter's installation prefix, wherever pyenv, uv or a build put them."""
    path = Path(python)
    if not path.is_absolute():
        return []
    found: list[Path] = []
    venv = path.parent.parent
    cfg = venv / "pyvenv.cfg"
    if cfg.is_file():
        found.append(venv)
        for line in cfg.read_text(errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                found.append(Path(value.strip()).parent)
    real = path.resolve()
    found.append(real.parent.parent)
    return [p for p in found if not _under(p, Path("/usr")) and str(p) != "/"]


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _dedupe(paths: Iterable[Path]) -> list[Path]:
    """Absolute, existing, resolved, each once, and none inside another one already listed."""
    out: list[Path] = []
    for path in sorted({Path(p).resolve() for p in paths if p and Path(p).exists()}, key=lambda p: len(p.parts)):
        if not any(_under(path, kept) for kept in out):
            out.append(path)
    return out


def wrap(
    argv: list[str],
    *,
    workdir: str | os.PathLike,
    writable: Iterable[str | os.PathLike] = (),
    readonly: Iterable[str | os.PathLike] = (),
) -> list[str]:
    """`argv` as the sandbox starts it: `writable` folders (the job's own) bound read-write,
    `readonly` ones (the environment) read-only, everything else of the host invisible.

    Raises SandboxUnavailable when there is no sandbox and running without one is not allowed;
    returns `argv` unchanged when it is allowed."""
    state = status()
    if not state.sandboxed:
        if state.allowed:
            return list(argv)
        raise SandboxUnavailable(state.headline)
    rw = _dedupe(writable)
    ro = [p for p in _dedupe([*readonly, *_ca_bundle()]) if not any(_under(p, w) for w in rw)]
    args = [bwrap_binary() or "bwrap", *_base_args()]
    # Parents before children, so a writable job folder inside a read-only tree stays writable.
    for path in sorted([*ro, *rw], key=lambda p: len(p.parts)):
        args += ["--bind" if path in rw else "--ro-bind", str(path), str(path)]
    args += ["--chdir", str(workdir), "--", *argv]
    return args


def _ca_bundle() -> list[Path]:
    bundle = settings.STUDIO_CA_BUNDLE
    return [Path(bundle)] if bundle and not bundle.startswith("/etc/") else []
