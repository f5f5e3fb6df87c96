"""State changes of the datastores app, one function each, and the reads other apps rely on:
datastores (datastores.py: register, update, default, delete, uploads) and data assets (data.py:
versions, archive/restore, lineage, resolving references). Import them from here. Pages, the REST
API, jobs' materialising and the registry call these and nothing else."""

from datastores.services.data import (  # noqa: F401
    Located,
    check_web_url,
    do_archive_data_version,
    do_create_data,
    do_create_data_from_upload,
    do_create_data_version,
    do_restore_data_version,
    do_update_data_version,
    get_datastore,
    is_url,
    locate,
    parse_data_yaml,
    record_usage,
    resolve_reference,
    resolve_version,
    upload_sink_for,
)
from datastores.services.datastores import (  # noqa: F401
    ALL_CONNECTION_FIELDS,
    BUILTIN_DESCRIPTIONS,
    CONNECTION_FIELDS,
    CREDENTIAL_KEYS,
    clean_credentials,
    connection_problems,
    create_builtin_datastores,
    do_delete_datastore,
    do_delete_path,
    do_record_upload,
    do_register_datastore,
    do_set_default_datastore,
    do_update_datastore,
)
