"""Keep one process running: `python -m compute.supervise -- <command> [args…]`.

`make run` starts web, worker and beat under honcho, which stops all three as soon as one exits.
A worker exits on purpose (an administrator drained it) or by accident (killed, out of memory);
either way the web server must stay up. This wrapper restarts the command after it exits, waiting
longer after each quick exit (1 s doubling up to 60 s; back to 1 s after a minute of running), and
says every exit and restart on stderr, so nothing is hidden. SIGTERM/SIGINT/SIGHUP are passed to
the command and end the supervisor once the command has exited (honcho's Ctrl-C still stops all).
Plain Python, no Django: it must not die of what kills the worker.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
HEALTHY_AFTER = 60.0  # seconds of running that reset the back-off


def say(message: str) -> None:
    print(f"[supervise] {message}", file=sys.stderr, flush=True)


def describe(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it if the supervisor is killed outright (SIGKILL), so a
    worker never outlives it unsupervised (Linux; elsewhere nothing)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Supervisor:
    """Runs `argv` again and again until told to stop; `stopping` is set by the signal handler."""

    def __init__(self, argv: list[str], *, first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY) -> None:
        self.argv = argv
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.child: subprocess.Popen | None = None
        self.stopping: int | None = None

    def on_signal(self, signum, frame) -> None:
        self.stopping = signum
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.on_signal)
        delay = self.first_delay
        while True:
            started = time.monotonic()
            try:
                # Its own process group: a signal to ours (honcho's killpg, a terminal's Ctrl-C)
                # reaches it once, through on_signal; a second SIGINT would make Celery cold-stop.
                self.child = subprocess.Popen(self.argv, process_group=0, preexec_fn=_die_with_parent)
            except OSError as exc:  # a typo in the command is said, and retried like a crash
                say(f"cannot start {self.argv[0]}: {exc}")
                code = 127
            else:
                code = self.child.wait()
            if self.stopping is not None:
                return code if code >= 0 else 0
            if time.monotonic() - started >= HEALTHY_AFTER:
                delay = self.first_delay
            say(f"{' '.join(self.argv[:4])}… {describe(code)}; starting it again in {delay:g} s")
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and self.stopping is None:
                time.sleep(min(0.2, deadline - time.monotonic()))
            if self.stopping is not None:
                return 0
            delay = min(delay * 2, self.max_delay)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        say("usage: python -m compute.supervise -- <command> [args…]")
        return 2
    return Supervisor(argv).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
