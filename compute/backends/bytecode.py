"""Bytecode for venv builds, compiled once per package file rather than once per venv.

uv installs a venv by hard-linking files from its cache. Compiling bytecode in every new venv
(uv's --compile-bytecode) costs far more than the install itself (tens of seconds for a
scikit-learn set, against a second or two of linking). So a venv build here installs without it,
compiles the venv's own files (`compileall` skips every .pyc that is already valid), and links
each new .pyc back beside its source in uv's cache. The next venv that links those sources gets
their __pycache__ too, already valid: a warm build is a warm build, with bytecode.

Sharing is safe: Python validates a .pyc by its source's mtime and size (equal for hard links to
one file), fixes the code's file name when it loads it, and replaces a stale .pyc by renaming a
new file over it, never by writing into the shared one. Anything unusual (a cache on another
filesystem, a file that is not a link) only means that file is not shared.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from compute.backends.base import LogFn


def compile_venv(python: Path, venv: Path, *, env: dict[str, str], timeout: float) -> int:
    """Compile the venv's modules that have no .pyc yet. Modules whose .pyc came linked from the
    cache are not even opened. Returns how many modules needed compiling."""
    sites = sorted(venv.glob("lib/python*/site-packages"))
    missing: list[str] = []
    total = 0
    for site in sites:
        tag = "cpython-" + site.parent.name.removeprefix("python").replace(".", "")
        for folder, dirs, files in os.walk(site):
            have = set(os.listdir(os.path.join(folder, "__pycache__"))) if "__pycache__" in dirs else set()
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            sources = [name for name in files if name.endswith(".py")]
            total += len(sources)
            missing += [os.path.join(folder, n) for n in sources if f"{n[:-3]}.{tag}.pyc" not in have]
    if not missing:
        return 0
    # compileall runs in parallel (-j 0) over folders only; a few stragglers go one by one.
    many = len(missing) > total // 4
    # -S: no site, so no .pth file of an installed package runs here, outside the sandbox.
    command = [str(python), "-I", "-S", "-m", "compileall", "-qq", "-j", "0"]
    subprocess.run(
        command + ([str(s) for s in sites] if many else ["-i", "-"]),
        input=None if many else "\n".join(missing) + "\n",
        text=True,
        env=env,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # a package may ship files for other Pythons that do not compile; uv ignores them too
    )
    return len(missing)


def share_with_cache(venv: Path, cache: Path, log: LogFn) -> int:
    """Hard-link each .pyc of `venv` that is not shared yet next to its source's cached copy.
    Returns how many were linked."""
    archive = cache / "archive-v0"
    if not archive.is_dir():
        return 0
    pending: list[tuple[Path, Path, os.stat_result]] = []
    for site in venv.glob("lib/python*/site-packages"):
        for pyc in site.rglob("__pycache__/*.pyc"):
            try:
                if pyc.stat().st_nlink > 1:
                    continue  # came from the cache already
                source = pyc.parent.parent / (pyc.name.split(".", 1)[0] + ".py")
                info = source.stat()
            except OSError:
                continue
            if info.st_nlink > 1:
                pending.append((pyc, source, info))
    if not pending:
        return 0
    index = _inode_index(archive, {(i.st_dev, i.st_ino) for _, _, i in pending})
    linked = 0
    for pyc, _source, info in pending:
        cached = index.get((info.st_dev, info.st_ino))
        if cached is None:
            continue
        target = cached.parent / "__pycache__" / pyc.name
        try:
            target.parent.mkdir(exist_ok=True)
            os.link(pyc, target)
            linked += 1
        except OSError:
            continue
    if linked:
        log(f"Bytecode: {linked} compiled file(s) kept in the uv cache for the next build.")
    return linked


def _inode_index(archive: Path, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Path]:
    """Cache paths of the files whose (device, inode) is in `wanted`."""
    found: dict[tuple[int, int], Path] = {}
    for root, dirs, files in os.walk(archive):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if not name.endswith(".py"):
                continue
            path = Path(root) / name
            try:
                info = path.stat()
            except OSError:
                continue
            key = (info.st_dev, info.st_ino)
            if key in wanted:
                found[key] = path
                if len(found) == len(wanted):
                    return found
    return found
