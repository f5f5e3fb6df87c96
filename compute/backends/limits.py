"""Per-job CPU and memory limits for the `venv` backend (docker uses container limits instead).

CPU: the process group is pinned (sched_setaffinity, inherited by every child) to `ceil(cpu)` of
the cores this worker may use, so fractional CPU is rounded up on this backend (docker honours
fractions through its CFS quota). Jobs take their cores round-robin so two one-core jobs do not
share a core. When more cores are asked for than exist, the job gets all of them. A job can widen
its own affinity again (it is an advisory fence, not a cgroup cpuset).

Memory, the best the host allows:
- cgroup v2 with the memory controller available to the worker's own cgroup: the job runs in a
  leaf cgroup with `memory.max` = the limit, no swap, and `memory.oom.group` = 1, so the limit
  covers the whole process group and exceeding it is an OOM kill of the group, reported from
  `memory.events` exactly like docker's OOMKilled.
- anything else (cgroup v1 or hybrid hosts, a worker in a non-root cgroup without delegation, no
  write access): RLIMIT_DATA on every process of the job. It is per process, not per group, and it
  does not kill: the allocation that crosses it fails (ENOMEM -> Python's MemoryError, C++'s
  std::bad_alloc), which `ran_out_of_memory` recognises in the last lines of output. RLIMIT_DATA
  rather than RLIMIT_AS because it counts private writable memory only: address space that
  runtimes reserve but do not use (PROT_NONE malloc arenas, thread stacks' guard areas, CUDA's and
  JAX's huge reservations) and mapped shared libraries are not charged, so an interpreter still
  starts under a small limit, while a plain `bytearray(10**9)` is refused. Shared memory
  (MAP_SHARED, /dev/shm) escapes it.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
import time
from pathlib import Path

logger = logging.getLogger(__name__)

CGROUP_MOUNTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))
_next_core = itertools.count()
_next_group = itertools.count()

# Lines that say an allocation was refused: Python's MemoryError (and numpy's _ArrayMemoryError),
# C++'s std::bad_alloc, strerror(ENOMEM) from C tools and OSError errno 12.
MEMORY_ERROR = re.compile(r"^\S*MemoryError\b|std::bad_alloc|Cannot allocate memory|\[Errno 12\]", re.M)
TAIL_LINES = 30


def choose_cpus(cpu: float | None) -> set[int] | None:
    """The cores to pin a job asking for `cpu` cores to; None for no pinning."""
    if not cpu or cpu <= 0:
        return None
    available = sorted(os.sched_getaffinity(0))
    wanted = math.ceil(cpu)
    if wanted >= len(available):
        return set(available)
    start = next(_next_core) * wanted
    return {available[(start + i) % len(available)] for i in range(wanted)}


def ran_out_of_memory(output_tail: str) -> bool:
    """Whether the last lines of a job's output show an allocation refused (the rlimit path)."""
    return bool(MEMORY_ERROR.search("\n".join(output_tail.splitlines()[-TAIL_LINES:])))


def _own_cgroup_v2() -> Path | None:
    """The worker's own cgroup in a cgroup v2 hierarchy, if there is one."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    relative = next((line[3:] for line in lines if line.startswith("0::")), None)
    if relative is None:
        return None
    for mount in CGROUP_MOUNTS:
        if (mount / "cgroup.controllers").is_file():
            own = mount / relative.lstrip("/")
            return own if own.is_dir() else None
    return None


class MemoryCgroup:
    """A cgroup v2 leaf holding one job, with its memory limit. `create` returns None when the host
    does not allow it (the caller falls back to RLIMIT_DATA)."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, label: str, limit: int) -> MemoryCgroup | None:
        parent = _own_cgroup_v2()
        if parent is None:
            return None
        try:
            if "memory" not in (parent / "cgroup.controllers").read_text().split():
                return None
            if "memory" not in (parent / "cgroup.subtree_control").read_text().split():
                # Refused (EBUSY) in a non-root cgroup that holds processes, like the worker's own.
                (parent / "cgroup.subtree_control").write_text("+memory")
            path = parent / f"studio-job-{label or 'run'}-{os.getpid()}-{next(_next_group)}"
            path.mkdir()
        except OSError as exc:
            logger.info("no cgroup v2 memory limit under %s (%s); using RLIMIT_DATA", parent, exc)
            return None
        group = cls(path)
        try:
            (path / "memory.max").write_text(str(limit))
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                if (path / name).exists():
                    (path / name).write_text(value)
        except OSError as exc:
            logger.warning("could not set up the memory cgroup %s (%s); using RLIMIT_DATA", path, exc)
            group.remove()
            return None
        return group

    def open_procs(self) -> int:
        """A write descriptor on cgroup.procs: the child writes "0" to it to join before exec."""
        return os.open(self.path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)

    def oom_killed(self) -> bool:
        try:
            events = dict(line.split() for line in (self.path / "memory.events").read_text().splitlines())
        except (OSError, ValueError):
            return False
        return int(events.get("oom_kill", 0)) > 0 or int(events.get("oom_group_kill", 0)) > 0

    def remove(self) -> None:
        """Kill whatever is left in the group and remove it (a cgroup with processes cannot go)."""
        try:
            if (self.path / "cgroup.kill").exists():
                (self.path / "cgroup.kill").write_text("1")
            deadline = time.monotonic() + 5
            while (self.path / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.path.rmdir()
        except FileNotFoundError:
            pass
        except OSError as exc:
            logger.warning("could not remove the job cgroup %s: %s", self.path, exc)
