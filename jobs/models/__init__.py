from jobs.models.job import Experiment, Job, JobStatus  # noqa: F401
from jobs.models.metrics import Metric, Param, RunTag  # noqa: F401
