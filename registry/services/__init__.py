"""State changes of models, one function each, and the reads other apps rely on (the modules of
this package: checks, files, lookup, create, changes; import them from here).

Contract for callers (pages, the REST API, the CLI through it, jobs through the hooks registered in
apps.py, and the tracking app's MLflow registry endpoints):
- Every `do_*` function is atomic, writes an activity event, and raises `ValidationError` (HTTP 400,
  field messages) for bad input or `studio.errors.Conflict` (409) for a clash with what exists.
  `actor` is the acting user (or None for the system); permission checks are the caller's job.
- Versions are immutable: only description, tags, stage, aliases and `archived` change later.
- Files are copied into the workspace's `workspaceartifactstore` under `registered_models/<name>/<id>/`
  (MLflow's logged models use `models/`) when a version is made (see `files_location`), so a source
  that changes or goes away later does not change the model.
"""

from registry.services.changes import (  # noqa: F401
    do_archive_model_version,
    do_delete_alias,
    do_delete_model,
    do_delete_model_version,
    do_rename_model,
    do_restore_model_version,
    do_set_alias,
    do_set_stage,
    do_update_model,
    do_update_model_version,
    record_usage,
)
from registry.services.checks import (  # noqa: F401
    RESERVED_NAMES,
    check_alias,
    check_name,
    check_stage,
    check_type,
    check_version,
    parse_model_yaml,
)
from registry.services.create import (  # noqa: F401
    UPLOAD_SOURCE,
    do_create_model,
    do_create_model_version,
    do_create_model_version_from_upload,
)
from registry.services.files import (  # noqa: F401
    ARTIFACT_DATASTORE,
    FILES_PREFIX,
    FilesLocation,
    artifact_datastore,
    file_path,
    files_location,
    list_files,
    read_small_file,
    upload_sink_for,
)
from registry.services.lookup import (  # noqa: F401
    fetch_versions,
    find,
    get_version,
    latest_version_ids,
    latest_versions,
    resolve,
)
