"""State changes of the pipelines app: components (components.py) and pipeline jobs (pipelines.py)."""

from pipelines.services.components import (
    do_archive_component_version,
    do_create_component_version,
    do_restore_component_version,
    resolve_component,
)

__all__ = [
    "do_archive_component_version",
    "do_create_component_version",
    "do_restore_component_version",
    "resolve_component",
]
