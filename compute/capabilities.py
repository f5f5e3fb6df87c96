"""What a node can offer, as it reports in its heartbeat: CPUs, memory, GPUs, which backends work
there (is Docker reachable? is uv there?) and which Python interpreters it has."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from compute import sandbox
from compute.backends import get_backend
from compute.engines import check_engine
from compute.models import Node
from compute.sizes import Machine
from studio import crypto

logger = logging.getLogger(__name__)

PYTHON_NAMES = ["python3"] + [f"python3.{minor}" for minor in range(8, 15)]


def host_report(target=None) -> dict[str, Any]:
    """The capability report of this machine for a node serving `target` (None: local)."""
    return {
        "cpu_count": os.cpu_count() or 0,
        "memory_mb": memory_mb(),
        "gpus": gpu_count(),
        "backends": backends(target),
        "pythons": pythons(),
    }


def largest_machine():
    """The biggest machine Studio sees: this host, or any node that reported a bigger one (a
    cluster's nodes may run elsewhere). Sizes are offered and defaulted against it."""
    best = Machine(os.cpu_count() or 1, memory_mb(), gpu_count())
    for cpus, memory, gpus in (
        Node.objects.responsive().filter(cpu_count__gt=0).values_list("cpu_count", "memory_mb", "gpus")[:200]
    ):
        if (cpus, memory) > (best.cpu_count, best.memory_mb):
            best = Machine(cpus, memory, gpus)
    return best


def memory_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return 0


def gpu_count() -> int:
    """NVIDIA devices visible here (/dev/nvidia0, /dev/nvidia1, ...)."""
    return sum(1 for p in Path("/dev").glob("nvidia*") if re.fullmatch(r"nvidia\d+", p.name))


def backends(target=None) -> dict[str, dict[str, Any]]:
    """{"venv": {"available": bool, "detail": str}, "docker": {...}} for this machine. For an
    attached target, "docker" is about its remote engine rather than the local one."""
    report = {}
    for kind in ("venv", "docker"):
        if kind == "docker" and target is not None and target.docker_host:
            report[kind] = _attached_engine(target)
            continue
        try:
            ok, detail = _available(kind)
        except Exception as exc:  # a broken probe must not stop the heartbeat
            logger.warning("backend probe %s failed: %s", kind, exc)
            ok, detail = False, f"probe failed: {exc}"
        report[kind] = {"available": bool(ok), "detail": str(detail)[:300]}
    report["venv"] |= _sandbox()
    return report


def _sandbox() -> dict[str, Any]:
    """How user code runs on this node's venv backend (compute/sandbox.py); a node that may not
    run it at all reports the backend unavailable, with the reason."""
    state = sandbox.status()
    out: dict[str, Any] = {"sandboxed": state.sandboxed, "sandbox": state.headline[:400]}
    if not state.allowed:
        out |= {"available": False, "detail": state.headline[:300]}
    return out


def _available(kind: str) -> tuple[bool, str]:
    return get_backend(kind).available()


def _attached_engine(target) -> dict[str, Any]:
    try:
        info = check_engine(target.docker_host, crypto.decrypt_json(target.tls_encrypted) or None)
    except ValidationError as exc:
        return {"available": False, "detail": " ".join(exc.messages)[:300]}
    return {"available": True, "detail": f"Docker {info.get('version', '?')} at {target.docker_host}"}


def pythons() -> list[dict[str, str]]:
    """Python interpreters on PATH, one per real executable: [{"version", "path"}]."""
    found: dict[str, dict[str, str]] = {}
    for name in PYTHON_NAMES:
        path = shutil.which(name)
        if not path:
            continue
        real = os.path.realpath(path)
        if real in found:
            continue
        try:
            done = subprocess.run([real, "--version"], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            continue
        # pyenv shims exist for versions that are not installed: they exit non-zero.
        match = re.match(r"Python (\d+\.\d+\S*)", (done.stdout or done.stderr).strip())
        if done.returncode == 0 and match:
            found[real] = {"version": match.group(1), "path": path}
    unique = {p["version"]: p for p in found.values()}  # python3 and python3.11 are often the same
    return sorted(unique.values(), key=lambda p: [int(x) if x.isdigit() else 0 for x in p["version"].split(".")])
