"""The run half of the `venv` backend: a job's command as a child process group, inside the
sandbox (compute/sandbox.py: bubblewrap, its own uid, PID namespace and filesystem view).

The command runs under a small bash wrapper that leads its own session (process group). Cancel and
timeout signal the whole group (SIGTERM, then SIGKILL after a grace period); if the worker itself
dies, the kernel sends the wrapper SIGHUP (PR_SET_PDEATHSIG) and the wrapper kills the group, so
no job outlives its worker. Output (stdout and stderr together) is read with large reads and
handed to a sink as decoded text, which keeps up with well over a million lines a second.

CPU and memory limits (`RunSpec.cpu`, `RunSpec.memory`) are enforced as `compute.backends.limits`
describes: the group is pinned to ceil(cpu) cores, and memory is capped by a cgroup v2 leaf where
the host allows one (an OOM kill, reported as `oom_killed`) or else by RLIMIT_DATA per process (a
refused allocation, reported as `memory_error` when the output ends with one).

`RunSpec` / `RunResult` are shared with the docker runner.
"""

from __future__ import annotations

import codecs
import ctypes
import functools
import os
import resource
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from compute import sandbox
from compute.backends.limits import MemoryCgroup, choose_cpus, ran_out_of_memory

Sink = Callable[[str], None]
READ_SIZE = 1024 * 1024
TAIL_CHARS = 8 * 1024  # output kept to recognise a refused allocation at the end
PR_SET_PDEATHSIG = 1

# `$1` is the user's command. It runs in the background so the wrapper can react to SIGHUP (sent
# by the kernel when the worker dies) by killing its whole process group.
WRAPPER = 'trap "kill -KILL 0" HUP; /bin/bash -c "$1" & wait $!'


@dataclass
class Mount:
    source: Path
    target: str
    read_only: bool = True


@dataclass
class RunSpec:
    """How to run one job, whichever backend runs it."""

    command: str  # the shell command line, placeholders already substituted
    workdir: Path  # host folder the command starts in (process) / is mounted from (docker)
    env: dict[str, str]
    label: str = ""
    cpu: float | None = None
    memory: int | None = None  # bytes
    shm_size: int | None = None
    # venv only: what the sandbox shows besides the system (compute/sandbox.py); the workdir is
    # always writable
    writable: list[Path] = field(default_factory=list)
    readonly: list[Path] = field(default_factory=list)
    # docker only
    image: str = ""
    mounts: list[Mount] = field(default_factory=list)
    container_workdir: str = ""
    docker_host: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class RunResult:
    exit_code: int | None
    oom_killed: bool = False
    killed: bool = False  # stopped by us (cancel or timeout)
    memory_error: bool = False  # venv without a cgroup: an allocation was refused at the limit


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def _child_setup(cpus: set[int] | None = None, data_limit: int | None = None, cgroup_fd: int | None = None) -> None:
    """Runs in the child between fork and exec: plain system calls only, no locks, no logging.

    Limits are applied here rather than to the pid after spawn so that they hold from the first
    instruction of the command and are inherited by every process it starts; applied afterwards
    (prlimit, sched_setaffinity(pid), writing the pid to cgroup.procs) a fast command could fork or
    allocate before the limit is in place."""
    os.setsid()
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGHUP, 0, 0, 0)
    if cgroup_fd is not None:
        os.write(cgroup_fd, b"0")  # "0" moves the writer itself into the cgroup
    if data_limit is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))
    if cpus:
        os.sched_setaffinity(0, cpus)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class ProcessRun:
    """A running command. Use as a context manager: on exit anything still running is killed.

    with ProcessRun(spec) as run:
        run.pump(sink)          # returns when the command's output ends
        result = run.wait()
    """

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.proc: subprocess.Popen | None = None
        self._killed = threading.Event()
        self._kill_lock = threading.Lock()
        self.cgroup: MemoryCgroup | None = None
        self._data_limit: int | None = None
        self._tail = ""

    def start(self) -> None:
        memory = int(self.spec.memory) if self.spec.memory else None
        if memory:
            self.cgroup = MemoryCgroup.create(self.spec.label, memory)
            if self.cgroup is None:
                hard = resource.getrlimit(resource.RLIMIT_DATA)[1]  # a child cannot raise it
                self._data_limit = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
        # Close-on-exec: the child uses it before exec (preexec_fn runs before close_fds), the job never sees it.
        cgroup_fd = self.cgroup.open_procs() if self.cgroup else None
        setup = functools.partial(_child_setup, choose_cpus(self.spec.cpu), self._data_limit, cgroup_fd)
        try:
            argv = sandbox.wrap(
                ["/bin/bash", "-c", WRAPPER, "studio-job", self.spec.command],
                workdir=self.spec.workdir,
                writable=[self.spec.workdir, *self.spec.writable],
                readonly=self.spec.readonly,
            )
            self.proc = subprocess.Popen(
                argv,
                cwd=str(self.spec.workdir),
                env=self.spec.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=setup,  # noqa: PLW1509 - setsid, pdeathsig and limits, nothing else
                close_fds=True,
            )
        except BaseException:
            if self.cgroup:
                self.cgroup.remove()
            raise
        finally:
            if cgroup_fd is not None:
                os.close(cgroup_fd)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def pump(self, sink: Sink) -> None:
        """Pass output to `sink` until the command exits and its output is drained. Children left
        behind in the group when the command ends are killed, so they cannot hold the pipe open."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        exited_at: float | None = None
        while True:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                data = os.read(fd, READ_SIZE)
                if not data:
                    break
                text = decoder.decode(data)
                if self._data_limit:
                    self._tail = (self._tail + text)[-TAIL_CHARS:]
                sink(text)
                continue
            if self.proc.poll() is not None:
                # The command is over; whatever still holds the pipe is a leftover background child.
                if exited_at is None:
                    exited_at = time.monotonic()
                    _signal_group(self.proc.pid, signal.SIGKILL)
                elif time.monotonic() - exited_at > 2:
                    break
        tail = decoder.decode(b"", final=True)
        if tail:
            if self._data_limit:
                self._tail = (self._tail + tail)[-TAIL_CHARS:]
            sink(tail)

    def wait(self) -> RunResult:
        assert self.proc is not None
        code = self.proc.wait()
        _signal_group(self.proc.pid, signal.SIGKILL)  # nothing of the job may outlive it
        if code < 0:  # the wrapper itself was signalled: report it the shell's way
            code = 128 - code
        killed = self._killed.is_set()
        oom_killed = bool(self.cgroup and self.cgroup.oom_killed())
        memory_error = bool(self._data_limit and code != 0 and not killed and ran_out_of_memory(self._tail))
        return RunResult(exit_code=code, killed=killed, oom_killed=oom_killed, memory_error=memory_error)

    def kill(self, grace: float = 2.0) -> None:
        """SIGTERM the whole group, SIGKILL it after `grace` seconds. Returns at once."""
        with self._kill_lock:
            if self.proc is None or self._killed.is_set():
                return
            self._killed.set()
        pgid = self.proc.pid
        _signal_group(pgid, signal.SIGTERM)
        timer = threading.Timer(grace, _signal_group, args=(pgid, signal.SIGKILL))
        timer.daemon = True
        timer.start()

    def __enter__(self) -> ProcessRun:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self.cgroup:
            self.cgroup.remove()
