"""Running jobs on a node (see execute.py for the flow)."""

from jobs.runner.execute import execute_job  # noqa: F401
