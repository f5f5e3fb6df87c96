"""State changes of jobs, experiments and code snapshots: one function each (see submit.py and
actions.py). Pages, the REST API, tasks and commands call these and nothing else."""

from jobs.services.actions import (  # noqa: F401
    do_cancel_job,
    do_delete_job,
    do_fail_lost_jobs,
    do_refuse_claimed_job,
    reap_stalled_jobs,
)
from jobs.services.archive import do_archive_job, do_bulk, do_restore_job  # noqa: F401
from jobs.services.submit import do_create_code_snapshot, do_release_job, do_submit_job, enqueue  # noqa: F401
