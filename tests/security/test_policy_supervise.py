"""`make run` keeps web up when the worker dies: compute.supervise restarts the worker, says so,
and still stops when told to (issue #11: a drained worker took web and beat down under honcho)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_that_dies_is_started_again_and_sigterm_still_stops_everything(tmp_path):
    runs = tmp_path / "runs"
    # The "worker": counts its starts; the first one dies at once, the second stays up.
    child = (
        "import pathlib, sys, time\n"
        f"p = pathlib.Path({str(runs)!r}); n = len(p.read_text()) if p.exists() else 0\n"
        "p.write_text('x' * (n + 1))\n"
        "sys.exit(3) if n == 0 else time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "compute.supervise", "--", sys.executable, "-c", child],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: runs.exists() and len(runs.read_text()) == 2), "the worker was not restarted"
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    assert "exited with code 3; starting it again in 1 s" in err
    assert len(runs.read_text()) == 2, "nothing runs after the supervisor stopped"


def test_the_worker_gets_one_signal_when_the_whole_group_is_signalled(tmp_path):
    """honcho stops a process with killpg: the worker must see SIGINT once (twice is Celery's cold
    shutdown, which kills running jobs)."""
    seen = tmp_path / "seen"
    child = (
        "import pathlib, signal, time\n"
        f"p = pathlib.Path({str(seen)!r})\n"
        "def on(sig, frame): p.write_text(p.read_text() + 'I' if p.exists() else 'I')\n"
        "signal.signal(signal.SIGINT, on)\n"
        "import os\n"
        "p.write_text('')\n"
        f"pathlib.Path({str(tmp_path / 'groups')!r}).write_text(f'{{os.getpgrp()}} {{os.getpgid(os.getppid())}}')\n"
        "time.sleep(1.5)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "compute.supervise", "--", sys.executable, "-c", child],
        cwd=ROOT,
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_for(seen.exists)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert seen.read_text() == "I"
    own, supervisors = (tmp_path / "groups").read_text().split()
    assert own != supervisors, "the worker is in its own process group"


def test_a_worker_does_not_outlive_a_killed_supervisor(tmp_path):
    pid_file = tmp_path / "pid"
    child = f"import os, pathlib, time\npathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\ntime.sleep(60)\n"
    proc = subprocess.Popen(
        [sys.executable, "-m", "compute.supervise", "--", sys.executable, "-c", child],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    assert wait_for(lambda: pid_file.exists() and pid_file.read_text())
    worker = int(pid_file.read_text())
    proc.kill()
    proc.wait(10)

    def gone():
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{worker}/stat").read_text().split()[2] == "Z"

    assert wait_for(gone, timeout=10), "the worker outlived its supervisor"
