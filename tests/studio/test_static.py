"""The production static pipeline (whitenoise's manifest storage) accepts every file we ship."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_collectstatic_with_the_manifest_storage_succeeds(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DEBUG", "DJANGO_"))}
    env.update(DEBUG="false", STUDIO_SECRET_KEY="x" * 60, STUDIO_DATA_DIR=str(tmp_path), ALLOWED_HOSTS="localhost")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "staticfiles" / "staticfiles.json").is_file()
