"""Upload and download throughput through Studio vs straight to the same storage, and the
server's peak memory meanwhile (streaming means it stays flat whatever the file size).

    .venv/bin/python bench/data.py                      # 200 MB, local built-in store + S3 (moto), uvicorn
    .venv/bin/python bench/data.py --size-mb 50 --server gunicorn --store local

Everything runs on 127.0.0.1 in a throw-away data directory: a Studio server (uvicorn, as in the
Procfile, or gunicorn), and for S3 a moto server in its own process. Targets: ratio >= 0.8,
peak server memory < 100 MB above idle.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a server exited early ({proc.returncode})")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def tree_rss(pid: int) -> int:
    """Resident memory of a process and its children, in bytes."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class Sampler:
    """Polls the server's RSS every 20 ms while a transfer runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()

    def __enter__(self):
        self.peak = tree_rss(self.pid)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def make_file(path: Path, size: int) -> None:
    block = os.urandom(MB)
    with path.open("wb") as f:
        for _ in range(size // MB):
            f.write(block)


def measure(
    label, name, kind, target, *, source: Path, work: Path, session, base: str, server_pid: int, idle: int, size: int
) -> None:
    """Upload then download one file, straight to the storage and through Studio, and print a row each."""
    # upload
    if kind == "local":
        direct_up = timed(lambda: shutil.copyfile(source, target / "direct.bin"))
    else:
        direct_up = timed(lambda: target.put_file(str(source), "bench/direct.bin"))

    def studio_upload():
        with source.open("rb") as f:
            r = session.put(
                f"{base}/{name}/files/?path=studio.bin&overwrite=true",
                data=f,
                headers={"Content-Type": "application/octet-stream"},
            )
            r.raise_for_status()

    with Sampler(server_pid) as up_mem:
        studio_up = timed(studio_upload)
    # download
    out = work / "download.bin"
    if kind == "local":
        direct_down = timed(lambda: shutil.copyfile(target / "direct.bin", out))
    else:
        direct_down = timed(lambda: target.get_file("bench/direct.bin", str(out)))

    def studio_download():
        with session.get(f"{base}/{name}/files/?path=studio.bin", stream=True) as r:
            r.raise_for_status()
            with out.open("wb") as f:
                for chunk in r.iter_content(MB):
                    f.write(chunk)

    with Sampler(server_pid) as down_mem:
        studio_down = timed(studio_download)
    assert out.stat().st_size == size, "the download is complete"
    for op, d, s, mem in (
        ("upload", direct_up, studio_up, up_mem),
        ("download", direct_down, studio_down, down_mem),
    ):
        print(
            f"{label:<38} {op:<9} {size / MB / d:>11.0f} {size / MB / s:>11.0f} {d / s:>6.2f} "
            f"{(mem.peak - idle) / MB:>9.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--server", choices=["uvicorn", "gunicorn"], default="uvicorn")
    parser.add_argument("--store", choices=["local", "s3", "both"], default="both")
    args = parser.parse_args()
    size = args.size_mb * MB

    work = Path(tempfile.mkdtemp(prefix="studio-bench-data-"))
    procs: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "STUDIO_DATA_DIR": str(work / "data"),
        "STUDIO_SECRET_KEY": "bench-" + "x" * 40,
        "DEBUG": "false",
        "STUDIO_SECURE_SSL": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        # The S3 stand-in (moto) listens on 127.0.0.1, an address members may not use by default.
        "STUDIO_ALLOW_PRIVATE_URLS": "true",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    try:
        (work / "data" / "staticfiles").mkdir(parents=True)
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        token = (
            subprocess.run(
                [PY, "manage.py", "shell", "-c", SETUP],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

        port = free_port()
        if args.server == "uvicorn":
            cmd = [
                str(ROOT / ".venv/bin/uvicorn"),
                "studio.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        else:
            cmd = [
                str(ROOT / ".venv/bin/gunicorn"),
                "studio.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
                "--threads",
                "4",
                "--timeout",
                "600",
                "--log-level",
                "warning",
            ]
        server = subprocess.Popen(cmd, cwd=ROOT, env=env)
        procs.append(server)
        wait_port(port, server)

        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        base = f"http://127.0.0.1:{port}/api/v1/workspaces/bench/datastores"

        # Warm up (imports, first connection), then take the idle figure.
        session.get(base + "/")
        session.put(base + "/workspaceblobstore/files/?path=warm.bin&overwrite=true", data=b"x" * 1024)
        stores: list[tuple[str, str, object]] = []
        if args.store in ("local", "both"):
            folder = work / "data" / "datastores"
            blob_root = next(folder.glob("bench-*/workspaceblobstore"))
            stores.append(("local built-in (workspaceblobstore)", "workspaceblobstore", ("local", blob_root)))
        if args.store in ("s3", "both"):
            s3_port = free_port()
            moto = subprocess.Popen(
                [PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(moto)
            wait_port(s3_port, moto)
            import s3fs

            url = f"http://127.0.0.1:{s3_port}"
            fs = s3fs.S3FileSystem(
                key="AKIABENCH",
                secret="bench-secret",
                endpoint_url=url,
                client_kwargs={"region_name": "us-east-1"},
                default_block_size=8 * MB,
            )
            fs.call_s3("create_bucket", Bucket="bench")
            body = {
                "name": "s3bench",
                "type": "s3",
                "bucket": "bench",
                "endpoint_url": url,
                "credentials": {"access_key_id": "AKIABENCH", "secret_access_key": "bench-secret"},
            }
            r = session.post(base + "/", json=body)
            r.raise_for_status()
            stores.append(("S3 (moto server)", "s3bench", ("s3", fs)))

        source = work / "payload.bin"
        make_file(source, size)
        time.sleep(0.5)
        idle = tree_rss(server.pid)
        print(f"Studio via {args.server}, file {args.size_mb} MB, server idle RSS {idle / MB:.0f} MB\n")
        print(f"{'storage':<38} {'op':<9} {'direct MB/s':>11} {'Studio MB/s':>11} {'ratio':>6} {'peak +MB':>9}")
        for label, name, (kind, target) in stores:
            measure(
                label,
                name,
                kind,
                target,
                source=source,
                work=work,
                session=session,
                base=base,
                server_pid=server.pid,
                idle=idle,
                size=size,
            )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


SETUP = """
from django.contrib.auth import get_user_model
from studio import services
user = get_user_model().objects.create_user("bench", password="bench-password-123")
services.do_create_workspace(name="bench", actor=user)
print(services.do_create_token(user=user, name="bench")[1])
"""

if __name__ == "__main__":
    main()
