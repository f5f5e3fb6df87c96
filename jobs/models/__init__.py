from jobs.models.code import CodeSnapshot  # noqa: F401
from jobs.models.job import (  # noqa: F401
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    UNFINISHED_STATUSES,
    Experiment,
    FailureKind,
    Job,
    JobEvent,
    JobStatus,
    JobType,
)
from jobs.models.metrics import JobToken, LatestMetric, Metric, Param, RunTag  # noqa: F401
from jobs.models.notices import NotificationPreference  # noqa: F401
