"""What every in-process bench does first: Django on a throw-away data folder (its own SQLite
database unless DATABASE_URL is set), with the repository importable."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(allowed_hosts: str = "testserver") -> Path:
    """Set up Django for a bench run from the command line; the repository's root."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("STUDIO_DATA_DIR", tempfile.mkdtemp(prefix="studio-bench-"))
    os.environ.setdefault("STUDIO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    os.environ.setdefault("STUDIO_SECURE_SSL", "false")
    os.environ.setdefault("STUDIO_MANIFEST_STATIC", "false")
    os.environ.setdefault("ALLOWED_HOSTS", allowed_hosts)
    os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
    import django

    django.setup()
    return ROOT
