"""Production topology: PostgreSQL and Redis have passwords from .env and Studio's URLs use
them; the reaper runs as a service of its own."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_postgres_and_redis_require_passwords_from_the_environment():
    services = compose()["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    redis = services["redis"]
    assert "--requirepass" in " ".join(redis["command"])
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?")
    studio = compose()["x-studio"]["environment"]
    assert "${POSTGRES_PASSWORD:?" in studio["DATABASE_URL"] and "studio:studio@" not in studio["DATABASE_URL"]
    assert studio["CELERY_BROKER_URL"].startswith("redis://:${REDIS_PASSWORD:?")


def test_the_reaper_runs_beside_the_workers():
    services = compose()["services"]
    assert services["reaper"]["command"][-1] == "studio_reaper"
    assert "studio_reaper" in (ROOT / "Procfile").read_text()
