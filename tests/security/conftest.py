"""Attacks and faults reuse the job fixtures (environments, dispatch stand-ins, job-dir cleanup)."""

from tests.jobs.conftest import _clean_job_dirs, no_dispatch, node, plain_env  # noqa: F401
