"""Test settings: the real settings, with test-friendly values for what the machine differs in."""

import os
import tempfile

os.environ.setdefault("STUDIO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("STUDIO_DATA_DIR", tempfile.mkdtemp(prefix="studio-test-"))
os.environ.setdefault("STUDIO_SECURE_SSL", "false")
os.environ.setdefault("STUDIO_MANIFEST_STATIC", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Azurite, moto, the test engine and live servers listen on 127.0.0.1; tests of the refusal
# itself turn this off with override_settings.
os.environ.setdefault("STUDIO_ALLOW_PRIVATE_URLS", "true")
# Tests do not depend on how much disk the machine has free: the reserve's own tests set it
# (tests/security/test_hardening_disk_reserve.py).
os.environ.setdefault("STUDIO_STORAGE_RESERVE", "0")

from studio.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# Jobs, builds and live servers write from threads beside the test. SQLite's in-memory test database
# (shared cache) locks whole tables and ignores the busy timeout; a file database in WAL mode
# behaves like a real install. PostgreSQL (CI) is unaffected.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}  # noqa: F405
