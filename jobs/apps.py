from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from compute import demand
        from compute.signals import node_lost
        from jobs import search as jobs_search
        from jobs import tracking
        from jobs.deletion import PART
        from jobs.integrations import RunHook, register_run_hook
        from jobs.waits import count_unfinished
        from studio import deletion, home, search
        from studio.activity import register_messages

        deletion.register(PART)
        search.register("jobs", "Jobs", 10, jobs_search.jobs)
        search.register("experiments", "Experiments", 15, jobs_search.experiments)

        register_messages(
            {
                "job.submitted": "submitted the job {target} ({experiment}, on {compute})",
                "job.canceled": "canceled the job {target}",
                "job.deleted": "deleted the job {target}",
                "job.archived": "archived the job {target}",
                "job.restored": "restored the job {target}",
                "job.refused": "did not run the job {target} on {compute}: {reason}",
                "code.uploaded": "uploaded code snapshot {target} ({files} files)",
            }
        )
        demand.register_counter(count_unfinished)
        home.register_cards("jobs", _home_cards, order=10)
        home.register_recent_jobs(_recent_jobs)
        # MLflow tracking joins every run (moves to the tracking app's ready() with its module).
        register_run_hook("tracking", RunHook(env=tracking.tracking_env, finished=tracking.revoke_job_tokens))
        node_lost.connect(_node_lost, dispatch_uid="jobs.node_lost")


def _node_lost(sender, node=None, **kwargs) -> None:
    """The compute reaper marked a node Unreachable: its jobs fail with "node lost"."""
    from jobs.services import do_fail_lost_jobs

    if node is not None and node.worker_name:
        do_fail_lost_jobs(node.worker_name)


def _home_cards(workspace):
    from django.db.models import Count, Q
    from django.urls import reverse

    from jobs.models import ACTIVE_STATUSES, Job, JobStatus
    from studio.home import Card

    counts = Job.objects.filter(workspace=workspace).aggregate(
        total=Count("pk"),
        running=Count("pk", filter=Q(status__in=ACTIVE_STATUSES)),
        queued=Count("pk", filter=Q(status__in=[JobStatus.NOT_STARTED, JobStatus.QUEUED])),
        failed=Count("pk", filter=Q(status=JobStatus.FAILED)),
    )
    detail = f"{counts['running']} running · {counts['queued']} queued · {counts['failed']} failed"
    return [Card("jobs", counts["total"], reverse("jobs:job_list", args=[workspace.name]), "play", detail)]


def _recent_jobs(workspace, limit: int) -> list:
    from jobs.models import Job

    return list(Job.objects.filter(workspace=workspace).select_related("created_by", "experiment")[:limit])
