"""Environment build figures for the curated scikit-learn set (Studio-sklearn-1.9).

    STUDIO_BASE_IMAGE=studio/base:bookworm .venv/bin/python bench/env_builds.py [--skip-docker] [--skip-pip]

Prints, in one run on this machine: cold and warm build time on each backend; `python -m venv` +
`pip install` of the same requirement set, side by side; and the time to answer for a spec that
is already built (the cache hit), both in-process and as a REST request. Everything happens in a
fresh temporary data folder (its own SQLite database, uv cache and venvs), so "cold" means an
empty uv cache. Docker images made here are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="studio-bench-envs-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "STUDIO_DATA_DIR": str(DATA),
        "STUDIO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "STUDIO_SECURE_SSL": "false",
        "STUDIO_MANIFEST_STATIC": "false",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("DATABASE_URL", None)  # always a private SQLite database

ENV = "Studio-sklearn-1.9"


def quiet(_line: str) -> None:
    pass


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def pip_baseline(requirements: list[str]) -> tuple[float, float]:
    """`python -m venv` + `pip install` of the same lines: once with an empty pip cache, then again
    (a new venv) with that cache warm."""
    req = DATA / "bench-requirements.txt"
    req.write_text("\n".join(requirements) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONDONTWRITEBYTECODE"}
    env |= {
        "PIP_CACHE_DIR": str(DATA / "pip-cache"),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    if os.environ.get("STUDIO_CA_BUNDLE") or os.environ.get("PIP_CERT"):
        env["PIP_CERT"] = os.environ.get("STUDIO_CA_BUNDLE") or os.environ["PIP_CERT"]
    times = []
    for attempt in ("cold", "warm"):
        target = DATA / f"pip-venv-{attempt}"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, env=env)
        subprocess.run(
            [str(target / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(req)], check=True, env=env
        )
        times.append(time.perf_counter() - started)
        shutil.rmtree(target, ignore_errors=True)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--skip-pip", action="store_true")
    parser.add_argument("--repeat", type=int, default=30, help="cache-hit samples")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from compute.backends import get_backend
    from environments import builds
    from environments.resolve import resolve_environment
    from studio import services

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username="bench", password="bench-password-0123")
    workspace = services.do_create_workspace(name="bench", actor=user)
    version = resolve_environment(workspace, f"{ENV}@latest")
    requirements, python = builds.requirements_for(version)
    rows: list[tuple[str, str]] = []
    print(f"{ENV}: {len(requirements)} requirement lines, python={python}; data in {DATA}")

    venv = get_backend("venv")
    cold, first = timed(lambda: builds.ensure_built(version, "venv", quiet, workspace=workspace, force=True))
    rows.append(("venv build, cold (empty uv cache)", f"{cold:6.2f} s  ({len(first.resolved_packages)} packages)"))
    shutil.rmtree(venv.path_for(version.spec_hash))
    warm, _ = timed(lambda: builds.ensure_built(version, "venv", quiet, workspace=workspace))
    rows.append(("venv build, warm (uv cache, venv removed)", f"{warm:6.2f} s"))

    samples = []
    for _ in range(args.repeat):
        took, hit = timed(lambda: builds.ensure_built(version, "venv", workspace=workspace))
        samples.append(took)
    rows.append(("cache hit, ensure_built (venv), median", f"{statistics.median(samples) * 1000:6.1f} ms"))

    client = Client()
    client.force_login(user)
    url = f"/api/v1/workspaces/bench/environments/{ENV}/versions/{version.version}/build/"
    http = []
    for _ in range(args.repeat):
        took, response = timed(lambda: client.post(url, {"backend": "venv"}, content_type="application/json"))
        assert response.status_code == 200 and response.json()["result"] == "cached", response.content[:300]
        http.append(took)
    rows.append(("cache hit, POST .../build/ (server time), median", f"{statistics.median(http) * 1000:6.1f} ms"))

    if not args.skip_pip:
        pip_cold, pip_warm = pip_baseline(requirements)
        rows.append(("python -m venv + pip install, cold pip cache", f"{pip_cold:6.2f} s"))
        rows.append(("python -m venv + pip install, warm pip cache", f"{pip_warm:6.2f} s"))
        rows.append(("warm venv build speed-up vs venv + pip (warm)", f"{pip_warm / warm:6.1f} x"))
        rows.append(("warm venv build speed-up vs venv + pip (cold)", f"{pip_cold / warm:6.1f} x"))

    docker = get_backend("docker")
    ok, why = docker.available()
    if args.skip_docker or not ok:
        rows.append(("docker", f"skipped ({'--skip-docker' if args.skip_docker else why})"))
    else:
        tag = docker.tag_for(version.spec_hash)
        try:
            cold, first = timed(lambda: builds.ensure_built(version, "docker", quiet, workspace=workspace, force=True))
            rows.append((f"docker build, cold (no layer cache, base {settings.STUDIO_BASE_IMAGE})", f"{cold:6.2f} s"))
            spec = builds.spec_for(version)
            warm, _ = timed(lambda: docker.build(spec, quiet))
            rows.append(("docker build, warm (Docker layer cache)", f"{warm:6.2f} s"))
            samples = [timed(lambda: builds.ensure_built(version, "docker", workspace=workspace))[0] for _ in range(10)]
            rows.append(("cache hit, ensure_built (docker), median", f"{statistics.median(samples) * 1000:6.1f} ms"))
        finally:
            import docker as docker_sdk

            try:
                docker_sdk.from_env().images.remove(tag, force=True)
            except docker_sdk.errors.DockerException:
                pass

    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    shutil.rmtree(DATA, ignore_errors=True)


if __name__ == "__main__":
    main()
