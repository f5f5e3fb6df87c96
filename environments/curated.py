"""The curated catalog: environments/curated/*.yml, loaded into the database by `migrate`
(post_migrate) and by `manage.py load_curated_environments`.

Curated environments belong to no workspace, are visible in every one, and are read-only. A
file whose build-relevant content changed becomes a new version; a changed description or tags
are updated in place (they are Studio's own words, not part of the spec). `${STUDIO_BASE_IMAGE}`
in a file stands for the STUDIO_BASE_IMAGE setting, so the catalog builds on this engine.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from environments import hashing, services, spec
from environments.models import CURATED_PREFIX, Environment
from studio import versioning, yamlspec

CURATED_DIR = Path(__file__).resolve().parent / "curated"


def definitions(directory: Path = CURATED_DIR) -> list[spec.Definition]:
    """Every curated file, checked like any user's YAML."""
    out = []
    for path in sorted(directory.glob("*.yml")):
        text = path.read_text().replace("${STUDIO_BASE_IMAGE}", settings.STUDIO_BASE_IMAGE)
        data = yamlspec.load_mapping(text, source=path.name)
        definition = spec.parse(data, source=path.name, allow_curated=True)
        if not definition.name.startswith(CURATED_PREFIX):
            raise ValidationError({"name": [f"{path.name}: curated names start with {CURATED_PREFIX!r}."]})
        out.append(definition)
    return out


@transaction.atomic
def sync(directory: Path = CURATED_DIR) -> list[str]:
    """Bring the database in line with the curated files; returns what changed, in words."""
    changes = []
    for definition in definitions(directory):
        env = Environment.objects.filter(workspace__isnull=True, name=definition.name).first()
        current = versioning.latest(env.versions.all()) if env else None
        if current is not None and current.spec_hash == hashing.spec_hash(definition):
            if (current.description, current.tags) != (definition.description, definition.tags):
                current.description, current.tags = definition.description, definition.tags
                current.save(update_fields=["description", "tags"])
                changes.append(f"updated the description of {current.reference}")
            continue
        if definition.version and env and env.versions.filter(version=definition.version).exists():
            definition.version = None  # the file kept its version but changed: number it after the others
        version = services.do_add_curated_version(definition)
        changes.append(f"added {version.reference}")
    return changes
