"""The `venv` backend's build half: one virtualenv per spec hash, made by uv.

A build happens in a temporary folder next to the target and is renamed into place when it is
complete (the venv is made `--relocatable` for that), so a half-built venv is never mistaken
for a finished one. uv's download cache (STUDIO_UV_CACHE) makes a second build of the same
packages a matter of linking files.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings

from compute import sandbox
from compute.backends import bytecode
from compute.backends.base import (
    BuildError,
    BuildOutput,
    BuildSpec,
    LogFn,
    build_environ,
    stream_command,
    uv_binary,
)

MARKER = ".studio-built"
# What uv says when `--no-build` stops it at a package that only comes as source.
NEEDS_BUILDING = re.compile(r"building from source is disabled|no usable wheels?|--no-build", re.I)


class VenvBackend:
    kind = "venv"
    product = "venv"

    @property
    def root(self) -> Path:
        return Path(settings.STUDIO_ENV_DIR) / "venv"

    def available(self) -> tuple[bool, str]:
        try:
            uv = uv_binary()
        except BuildError as exc:
            return False, str(exc)
        try:
            version = subprocess.run([uv, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            return False, f"uv does not run: {exc}"
        return True, version or "uv"

    def path_for(self, spec_hash: str) -> Path:
        return self.root / spec_hash

    def exists(self, location: str) -> bool:
        """A finished venv (or, for user-managed environments, the interpreter) is still here."""
        path = Path(location)
        if path.is_file():
            return os.access(path, os.X_OK)
        return (path / MARKER).is_file() and (path / "bin" / "python").exists()

    def build(self, spec: BuildSpec, log: LogFn, *, nocache: bool = False) -> BuildOutput:
        """Make the venv of `spec`. Every build starts from an empty folder, so `nocache` (a
        rebuild) needs nothing more; uv's download cache only saves fetching the same files."""
        if spec.context_dir is not None:
            raise BuildError(
                "A Docker build context can only be built by the docker backend.",
                "This environment is a Docker build context: build it on the docker backend.",
            )
        if spec.user_managed:
            return self._user_managed(spec, log)
        # uv links files from its cache; bytecode is compiled once per cached file (bytecode.py).
        env = build_environ(spec.build_env) | {"UV_COMPILE_BYTECODE": "0"}
        uv = uv_binary()
        interpreter = find_interpreter(spec.python)
        log(f"Python: {interpreter}" + (f" (the conda file asks for python={spec.python})" if spec.python else ""))
        if spec.image:
            version = _version_of(interpreter)
            log(
                f"The venv backend uses this machine's Python{' ' + version if version else ''} ({interpreter}); "
                f"the image {spec.image} applies on docker targets."
            )
        target = self.path_for(spec.spec_hash)
        tmp = self.root / f".tmp-{spec.spec_hash[:16]}-{uuid.uuid4().hex[:8]}"
        timeout = settings.STUDIO_BUILD_TIMEOUT
        started = time.monotonic()
        try:
            log(f"$ uv venv --relocatable --python {interpreter} {target}")
            stream_command(
                [uv, "venv", "--relocatable", "--no-config", "--python", interpreter, str(tmp)],
                log,
                env=env,
                timeout=timeout,
            )
            python = tmp / "bin" / "python"
            if spec.requirements:
                requirements = tmp / "studio-requirements.txt"
                requirements.write_text("\n".join(spec.requirements) + "\n")
                self._install(uv, python, tmp, requirements, log, env, deadline=started + timeout)
            else:
                log("Nothing to install: the environment is an interpreter with no extra packages.")
            remaining = max(1.0, timeout - (time.monotonic() - started))
            compiled_at = time.monotonic()
            compiled = bytecode.compile_venv(python, tmp, env=env, timeout=remaining)
            log(f"Bytecode: {compiled} module(s) compiled in {time.monotonic() - compiled_at:.1f} s (others: cached).")
            bytecode.share_with_cache(tmp, Path(settings.STUDIO_UV_CACHE), log)
            resolved = self._freeze(uv, python, env, log)
            (tmp / MARKER).write_text(spec.spec_hash + "\n")
            self._swap_into_place(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log(f"Resolved {len(resolved)} package(s); venv ready at {target}")
        return BuildOutput(
            python=str(target / "bin" / "python"),
            resolved_packages=resolved,
            base_image_id=_interpreter_id(interpreter),
            location=str(target),
        )

    def _user_managed(self, spec: BuildSpec, log: LogFn) -> BuildOutput:
        path = Path(spec.interpreter_path)
        log(f"User-managed dependencies: nothing is installed; using {path} as it is.")
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BuildError(
                f"The interpreter {path} does not exist on this host.",
                f"Interpreter not found: {path} (user-managed environments use it as it is)",
            )
        resolved = self._freeze(uv_binary(), path, build_environ(spec.build_env), log)
        return BuildOutput(
            python=str(path), resolved_packages=resolved, base_image_id=_interpreter_id(str(path)), location=str(path)
        )

    def _install(self, uv: str, python: Path, venv: Path, requirements: Path, log: LogFn, env, *, deadline: float):
        """Install the requirements, running no package's code outside the sandbox.

        Wheels first, by uv alone (`--no-build`: installing a wheel runs nothing), linked from the
        shared cache. Only when a package has no wheel for this Python does its build script have
        to run: then the whole install runs again in the sandbox, with the venv and a private,
        throw-away uv cache as the only writable places, so a build script can alter neither the
        shared cache (whose files are hard-linked into every venv) nor anything else of Studio's."""
        command = [uv, "pip", "install", "--no-config", "--python", str(python), "-r", str(requirements)]
        log(f"$ uv pip install --no-build -r requirements.txt   ({requirements.read_text().count(chr(10))} line(s))")
        try:
            stream_command([*command, "--no-build"], log, env=env, timeout=max(1.0, deadline - time.monotonic()))
            return
        except BuildError as exc:
            if not NEEDS_BUILDING.search(str(exc.line) + "\n" + str(exc)):
                raise
        log("Some packages have no wheel for this Python: building them in the sandbox, with a private uv cache.")
        cache = venv.with_name(venv.name + "-cache")
        cache.mkdir()
        try:
            argv = sandbox.wrap(
                command,
                workdir=venv,
                writable=[venv, cache],
                readonly=[*sandbox.python_paths(python), uv],
            )
        except sandbox.SandboxUnavailable as exc:
            raise BuildError(str(exc), str(exc)) from None
        try:
            private = env | {"UV_CACHE_DIR": str(cache), "HOME": str(cache), "TMPDIR": str(cache)}
            log("$ uv pip install -r requirements.txt   (sandboxed)")
            stream_command(argv, log, env=private, timeout=max(1.0, deadline - time.monotonic()))
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    def _freeze(self, uv: str, python: Path, env: dict[str, str], log: LogFn) -> list[str]:
        """The installed packages, pinned; empty when they cannot be listed, which the build log
        then says (the page would otherwise read as if nothing were installed)."""
        # The sandbox mounts the binary itself, not a symlink's target (a venv that links to another).
        uv = str(Path(uv).resolve())
        try:
            # uv asks the interpreter about itself, which starts it (and any .pth file it has).
            argv = sandbox.wrap(
                [uv, "pip", "freeze", "--no-config", "--python", str(python)],
                workdir="/",
                readonly=[*sandbox.python_paths(python), uv],
            )
        except sandbox.SandboxUnavailable as exc:
            log(f"Could not list the installed packages: {exc}")
            return []
        out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
        if out.returncode != 0:
            last = (out.stderr.strip().splitlines() or [f"exit code {out.returncode}"])[-1]
            log(f"Could not list the installed packages: {last[:300]}")
            return []
        return sorted((line.strip() for line in out.stdout.splitlines() if line.strip()), key=str.lower)

    def _swap_into_place(self, tmp: Path, target: Path) -> None:
        if target.exists():
            trash = target.with_name(f".old-{target.name[:16]}-{uuid.uuid4().hex[:8]}")
            target.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        tmp.rename(target)


def _interpreter_id(interpreter: str) -> str:
    """What the venv is based on: the base interpreter and its exact version."""
    try:
        out = subprocess.run(
            [interpreter, "-c", "import sys,platform; print(sys.base_prefix, platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return interpreter
    prefix, _, version = out.stdout.strip().rpartition(" ")
    return f"python {version} ({prefix})" if out.returncode == 0 else interpreter


def _version_of(path: str) -> str | None:
    try:
        out = subprocess.run(
            [path, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _candidates(minor: str) -> list[str]:
    """Interpreters named python<minor> on this host: PATH (but not pyenv's shims, which fail for
    versions that are not selected), the usual prefixes, and pyenv's installed versions."""
    seen: list[str] = []
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and "shims" not in Path(d).parts]
    for folder in [*dirs, "/usr/local/bin", "/usr/bin"]:
        path = os.path.join(folder, f"python{minor}")
        if os.path.isfile(path) and os.access(path, os.X_OK) and path not in seen:
            seen.append(path)
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for path in sorted(glob.glob(os.path.join(pyenv, "versions", f"{minor}.*", "bin", f"python{minor}")), reverse=True):
        if path not in seen:
            seen.append(path)
    return seen


def find_interpreter(pin: str | None) -> str:
    """An interpreter for the conda file's `python=` pin ("3.11", "3.11.4"); Studio's own Python
    when there is none. Raises BuildError naming what this host does have."""
    if not pin:
        return sys.executable
    parts = pin.split(".")
    minor = ".".join(parts[:2])
    current = ".".join(str(n) for n in sys.version_info[:3])
    if current == pin or current.startswith(minor + ".") and len(parts) == 2:
        return sys.executable
    for path in _candidates(minor):
        version = _version_of(path)
        if version and (version == pin or (len(parts) == 2 and version.startswith(minor + "."))):
            return path
    found = {v for m in ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14") for v in _installed(m)}
    have = sorted(found, key=lambda v: tuple(int(p) for p in v.split(".") if p.isdigit()))
    raise BuildError(
        f"Python {pin} is not installed on this host.",
        f"Python {pin} (python={pin} in the conda file) is not installed on this host; "
        f"it has {', '.join(have) or 'no other Python'}.",
    )


def _installed(minor: str) -> list[str]:
    versions = []
    for path in _candidates(minor):
        version = _version_of(path)
        if version:
            versions.append(version)
    return versions
