from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from jobs import search as jobs_search
        from studio import search

        search.register("jobs", "Jobs", 10, jobs_search.jobs)
        search.register("experiments", "Experiments", 15, jobs_search.experiments)

        from jobs.deletion import PART
        from studio import deletion
        from studio.activity import register_messages
        from studio.navigation import replace_section

        deletion.register(PART)

        replace_section("jobs", "jobs:job_list")
        replace_section("experiments", "jobs:experiment_list")
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
        try:
            from compute.signals import node_lost
        except ImportError:
            return
        node_lost.connect(_node_lost, dispatch_uid="jobs.node_lost")


def _node_lost(sender, node=None, **kwargs) -> None:
    """The compute reaper marked a node Unreachable: its jobs fail with "node lost"."""
    from jobs.services import do_fail_lost_jobs

    if node is not None and node.worker_name:
        do_fail_lost_jobs(node.worker_name)
